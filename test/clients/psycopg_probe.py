# psycopg2 and psycopg 3 against the VeilSQL gateway (run by psycopg.test.ts with Debian's
# /usr/bin/python3). Prints one JSON document: for each check, the rows in canonical text
# (decimals as str(Decimal), dates/timestamps isoformat with a space, booleans t/f) so the test
# can compare them with the in-process engine's results.
import datetime
import decimal
import json
import sys

import psycopg
import psycopg2
import psycopg2.extensions

conninfo = sys.argv[1]
out = {}


def canon(v):
    if v is None:
        return None
    if isinstance(v, bool):
        return 't' if v else 'f'
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, float):
        return repr(v).rstrip('0').rstrip('.') if '.' in repr(v) else repr(v)
    if isinstance(v, datetime.datetime):
        return v.isoformat(sep=' ')
    if isinstance(v, datetime.date):
        return v.isoformat()
    return str(v)


def rows(cur):
    return [[canon(v) for v in r] for r in cur.fetchall()]


QUERY = ("SELECT id, name, balance, account_no, score, opened, updated, active FROM bank_a.customers "
         "WHERE id >= %s AND balance >= %s AND updated >= %s AND name LIKE %s ORDER BY id LIMIT 4")
PARAMS = (3, decimal.Decimal('100.50'), datetime.datetime(2024, 1, 1, 9, 0, 0), 'customer %')

# ---- psycopg2: simple protocol, client-side interpolation, BEGIN before the first statement.
c2 = psycopg2.connect(conninfo)
c2.set_client_encoding('UTF8')
cur = c2.cursor()
cur.execute(QUERY, PARAMS)
out['psycopg2_params'] = rows(cur)
out['psycopg2_status_in_tx'] = c2.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_INTRANS
c2.commit()
out['psycopg2_status_after_commit'] = c2.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE
try:
    cur.execute("SELECT nope FROM bank_a.customers")
    out['psycopg2_error'] = None
except psycopg2.Error as e:
    out['psycopg2_error'] = e.pgcode
# The block failed: until ROLLBACK every statement is refused with 25P02.
try:
    cur.execute("SELECT 1")
    out['psycopg2_in_failed_block'] = None
except psycopg2.Error as e:
    out['psycopg2_in_failed_block'] = e.pgcode
c2.rollback()
cur.execute("SELECT count(*) FROM bank_a.customers WHERE region = %s", ('north',))
out['psycopg2_after_rollback'] = rows(cur)
cur.execute("SELECT current_user, current_database(), current_schema(), version() LIKE 'PostgreSQL 16.%%'")
out['psycopg2_session'] = rows(cur)
c2.close()

# ---- psycopg 3: extended protocol for everything, binary parameters, prepared statements.
with psycopg.connect(conninfo) as c3:
    with c3.cursor() as cur:
        cur.execute(QUERY, PARAMS)
        out['psycopg3_params'] = rows(cur)
        out['psycopg3_in_tx'] = c3.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
    c3.commit()
    # Binary results: one result-format code for all columns.
    with c3.cursor(binary=True) as cur:
        cur.execute(QUERY, PARAMS)
        out['psycopg3_binary'] = rows(cur)
    c3.commit()
    # prepare=True: a named server-side statement, run several times.
    with c3.cursor() as cur:
        runs = []
        for i in range(1, 7):
            cur.execute("SELECT id, balance, opened FROM bank_a.customers WHERE id = %s", (i,), prepare=True)
            runs.append(rows(cur))
        out['psycopg3_prepared'] = runs
    c3.commit()
    # An explicit transaction block, and an error inside one.
    with c3.transaction():
        with c3.cursor() as cur:
            cur.execute("SELECT region, count(*) FROM bank_a.customers GROUP BY region ORDER BY region")
            out['psycopg3_transaction'] = rows(cur)
    try:
        with c3.transaction():
            c3.execute("SELECT * FROM bank_a.nothing")
        out['psycopg3_error'] = None
    except psycopg.Error as e:
        out['psycopg3_error'] = e.sqlstate
    c3.autocommit = True
    with c3.cursor() as cur:
        cur.execute("SELECT %s::int + 1, %s::text || '!'", (41, 'hi'))
        out['psycopg3_autocommit'] = rows(cur)

print(json.dumps(out))
