// PgJDBC against the VeilSQL gateway (run by jdbc.test.ts as `java -cp postgresql.jar JdbcProbe.java`).
// Prints one tab-separated line per observation: `<section>\t<values…>`; NULL prints as \N.
// Values are printed in canonical forms (dates yyyy-MM-dd, timestamps yyyy-MM-dd HH:mm:ss[.ffffff],
// decimals as BigDecimal.toPlainString, doubles via BigDecimal.valueOf, booleans t/f) so the
// test can compare them with the in-process engine's text, whether PgJDBC transferred them in
// text (executions 1–5) or binary (from the 6th, server-prepared, execution on).
import java.math.BigDecimal;
import java.sql.*;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

public class JdbcProbe {
  static final DateTimeFormatter TS = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

  static void out(String section, Object... values) {
    StringBuilder b = new StringBuilder(section);
    for (Object v : values) b.append('\t').append(v == null ? "\\N" : v.toString());
    System.out.println(b);
  }

  static String canonical(ResultSet rs, int i) throws SQLException {
    int type = rs.getMetaData().getColumnType(i);
    Object o = rs.getObject(i);
    if (o == null) return null;
    switch (type) {
      case Types.INTEGER: case Types.SMALLINT: return Integer.toString(rs.getInt(i));
      case Types.BIGINT: return Long.toString(rs.getLong(i));
      case Types.NUMERIC: case Types.DECIMAL: return rs.getBigDecimal(i).toPlainString();
      case Types.DOUBLE: case Types.FLOAT: case Types.REAL:
        return BigDecimal.valueOf(rs.getDouble(i)).stripTrailingZeros().toPlainString();
      case Types.DATE: return rs.getDate(i).toLocalDate().toString();
      case Types.TIMESTAMP: {
        java.time.LocalDateTime t = rs.getTimestamp(i).toLocalDateTime();
        String s = t.format(TS);
        // Postgres prints fractional seconds only when there are some, without trailing zeros.
        if (t.getNano() != 0) s += String.format(".%06d", t.getNano() / 1000).replaceAll("0+$", "");
        return s;
      }
      case Types.BIT: case Types.BOOLEAN: return rs.getBoolean(i) ? "t" : "f";
      default: return rs.getString(i);
    }
  }

  static void rows(String section, ResultSet rs) throws SQLException {
    int n = rs.getMetaData().getColumnCount();
    while (rs.next()) {
      Object[] vals = new Object[n];
      for (int i = 1; i <= n; i++) vals[i - 1] = canonical(rs, i);
      out(section, vals);
    }
  }

  public static void main(String[] args) throws Exception {
    String url = args[0];
    Properties props = new Properties();
    props.setProperty("user", args[1]);
    props.setProperty("password", args[2]);
    try (Connection c = DriverManager.getConnection(url, props)) {
      DatabaseMetaData md = c.getMetaData();
      out("version", md.getDatabaseProductName(), md.getDatabaseProductVersion(), md.getDatabaseMajorVersion());
      try (ResultSet rs = md.getCatalogs()) { while (rs.next()) out("catalog", rs.getString("TABLE_CAT")); }
      try (ResultSet rs = md.getSchemas()) { while (rs.next()) out("schema", rs.getString("TABLE_SCHEM"), rs.getString("TABLE_CATALOG")); }
      try (ResultSet rs = md.getTables(null, null, "%", new String[] { "TABLE" })) {
        while (rs.next()) out("table", rs.getString("TABLE_SCHEM"), rs.getString("TABLE_NAME"), rs.getString("TABLE_TYPE"), rs.getString("REMARKS"));
      }
      try (ResultSet rs = md.getColumns(null, "bank_b", "customers", "%")) {
        while (rs.next()) {
          out("column", rs.getString("TABLE_SCHEM"), rs.getString("TABLE_NAME"), rs.getString("COLUMN_NAME"), rs.getInt("DATA_TYPE"),
              rs.getString("TYPE_NAME"), rs.getInt("ORDINAL_POSITION"), rs.getString("IS_NULLABLE"), rs.getString("REMARKS"));
        }
      }

      // A PreparedStatement run 7 times: PgJDBC switches to a named server-side statement on the
      // 5th run and from the 6th sends Bind + Execute only, decoding binary results with the
      // types it was told on the 5th.
      String sql = "SELECT id, name, balance, account_no, score, opened, updated, active, balance * 2 AS doubled, "
          + "count(*) OVER () AS n FROM bank_a.customers WHERE id >= ? AND account_no >= ? AND score >= ? "
          + "AND balance >= ? AND updated >= ? AND name LIKE ? ORDER BY id LIMIT 5";
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        for (int run = 1; run <= 7; run++) {
          ps.setInt(1, run);
          ps.setLong(2, 1000000007L * run);
          ps.setDouble(3, run / 8.0);
          ps.setBigDecimal(4, new BigDecimal("10.50").add(BigDecimal.valueOf(run)));
          ps.setTimestamp(5, Timestamp.valueOf("2024-01-01 09:00:00"));
          ps.setString(6, "customer %");
          try (ResultSet rs = ps.executeQuery()) {
            ResultSetMetaData m = rs.getMetaData();
            List<String> types = new ArrayList<>();
            for (int i = 1; i <= m.getColumnCount(); i++) types.add(m.getColumnTypeName(i));
            out("types", run, String.join(",", types));
            rows("run" + run, rs);
          }
          out("serverPrepared", run, ps.unwrap(org.postgresql.PGStatement.class).isUseServerPrepare());
        }
      }

      // Statement.cancel() while a long federated query runs.
      // PgJDBC ignores cancel() until the statement is executing, so it is repeated until the query ends.
      try (Statement st = c.createStatement()) {
        java.util.concurrent.atomic.AtomicBoolean finished = new java.util.concurrent.atomic.AtomicBoolean(false);
        Thread canceller = new Thread(() -> {
          try {
            while (!finished.get()) {
              Thread.sleep(500);
              if (!finished.get()) st.cancel();
            }
          } catch (Exception e) {
            out("cancelError", e.toString());
          }
        });
        canceller.start();
        long started = System.nanoTime();
        try {
          st.executeQuery("SELECT count(*) FROM bank_a.customers a, bank_a.customers b, generate_series(1, 200000000) g").close();
          out("cancel", "completed");
        } catch (SQLException e) {
          out("cancel", e.getSQLState(), e.getMessage(), (System.nanoTime() - started) / 1_000_000 < 15_000);
        } finally {
          finished.set(true);
        }
        canceller.join();
        try (ResultSet rs = st.executeQuery("SELECT 1 AS still_alive")) { rows("afterCancel", rs); }
      }

      // Errors keep their SQLSTATE.
      try (Statement st = c.createStatement()) {
        for (String bad : new String[] { "SELECT nope FROM bank_a.customers", "SELECT name FROM bank_b.customers", "SELECT * FROM bank_c.nothing" }) {
          try {
            st.executeQuery(bad).close();
            out("error", bad, "no error");
          } catch (SQLException e) {
            out("error", bad, e.getSQLState());
          }
        }
      }
    }

    // preferQueryMode=simple: parameters are interpolated client side and sent as a simple Query.
    try (Connection c = DriverManager.getConnection(url + (url.contains("?") ? "&" : "?") + "preferQueryMode=simple", props);
        PreparedStatement ps = c.prepareStatement("SELECT id, name, balance, opened, updated, active FROM bank_a.customers WHERE id BETWEEN ? AND ? AND name <> ? ORDER BY id")) {
      ps.setInt(1, 3);
      ps.setLong(2, 6L);
      ps.setString(3, "it's quoted");
      try (ResultSet rs = ps.executeQuery()) { rows("simple", rs); }
    }
  }
}
