/**
 * A party embedded in this process: the gateway's own party (and, in tests, whole federations
 * in one process). Calls go straight to the `PartyService` with a fixed requester identity, so
 * the party runs exactly the checks it runs for remote requesters.
 */
import type { PartyCatalog } from '../planner/catalog-types.js';
import type { FragmentRequest, FragmentStream, PartyConnector, PartyService } from './connector.js';

export class EmbeddedPartyConnector implements PartyConnector {
  readonly party: string;

  constructor(private readonly service: PartyService, private readonly requester: string) {
    this.party = service.name;
  }

  catalog(): Promise<PartyCatalog> {
    return this.service.catalogFor(this.requester);
  }

  execute(request: FragmentRequest, signal: AbortSignal): Promise<FragmentStream> {
    return this.service.executeFragment(this.requester, request, signal);
  }

  async close(): Promise<void> {
    // The party's lifetime belongs to whoever opened it.
  }
}
