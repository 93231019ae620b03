/**
 * Loads every private operator (planner side, executor side and party protocol). Import this
 * module once wherever plans are built or parties are opened (the node runner, tests).
 */
export { registerPartyProtocols } from './registry.js';
