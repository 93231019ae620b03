/**
 * A party embedded in this process: the gateway's own party (and, in tests, whole federations
 * in one process). Calls go straight to the `PartyService` with a fixed requester identity, so
 * the party runs exactly the checks it runs for remote requesters; protocol sessions run over
 * an in-memory frame channel pair with the same semantics as one over HTTP/2.
 */
import type { PartyCatalog } from '../planner/catalog-types.js';
import type { FragmentRequest, FragmentStream, FrameChannel, PartyConnector, PartyService, ProtocolRequest } from './connector.js';
import { createFrameChannelPair } from './frame-pair.js';

export class EmbeddedPartyConnector implements PartyConnector {
  readonly party: string;

  constructor(private readonly service: PartyService, private readonly requester: string) {
    this.party = service.name;
  }

  catalog(): Promise<PartyCatalog> {
    return this.service.catalogFor(this.requester);
  }

  async execute(request: FragmentRequest, signal: AbortSignal): Promise<FragmentStream> {
    // The gateway starts all fragments of a query at once: let the requests to remote parties
    // go out before this thread parses and plans the local one.
    await new Promise((resolve) => setImmediate(resolve));
    return this.service.executeFragment(this.requester, request, signal);
  }

  async openProtocol(request: ProtocolRequest, signal: AbortSignal): Promise<FrameChannel> {
    const [ours, theirs] = createFrameChannelPair();
    // A JSON round trip, as over the wire: the party gets no shared objects from the requester.
    const copy = JSON.parse(JSON.stringify(request)) as ProtocolRequest;
    this.service.runProtocol(this.requester, copy, theirs, signal).then(
      () => theirs.end(),
      (e: unknown) => theirs.destroy(e instanceof Error ? e : new Error(String(e))),
    );
    return ours;
  }

  async close(): Promise<void> {
    // The party's lifetime belongs to whoever opened it.
  }
}
