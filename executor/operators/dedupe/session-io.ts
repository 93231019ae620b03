/**
 * Small helpers for the dedupe's protocol sessions: a request answered by one JSON frame, and
 * closing a session cleanly (our side ended, the peer's end awaited) so that neither side logs
 * a reset for a session that went well.
 */
import type { FrameChannel, PartyConnector } from '../../../connectors/connector.js';
import { decodeJson } from '../../protocols/toprf/messages.js';

/** Ends our side and waits (in the background) for the peer's end, then releases the stream. */
export function finishSession(channel: FrameChannel): void {
  void (async () => {
    await channel.end();
    while ((await channel.receive()) !== null) {
      // A well-behaved peer sends nothing more; anything else is dropped.
    }
  })()
    .catch(() => undefined)
    .finally(() => channel.destroy());
}

/** Opens `protocol` at the peer, reads its one JSON answer and waits until it finished. */
export async function requestJson(
  connector: PartyConnector,
  request: { queryId: string; protocol: string; params: unknown; timeoutMs: number },
  signal: AbortSignal,
): Promise<Record<string, unknown>> {
  const channel = await connector.openProtocol(request, signal);
  try {
    const answer = decodeJson(await channel.receive());
    // The peer's success is only certain once its side ended cleanly (errors travel at the end).
    if ((await channel.receive()) !== null) throw new RangeError(`${request.protocol}: unexpected frame after the answer`);
    await channel.end();
    return answer;
  } finally {
    channel.destroy();
  }
}
