import type { ResolvedEvent } from '../catalog';
import type { Config } from '../config';

export interface HistoryPolicy {
  maxLen: number;
  maxAgeMs: number;
}

export type HistoryDefaults = Pick<Config, 'HISTORY_MAX_LEN' | 'HISTORY_MAX_AGE_MS'>;

/** The history caps of an event: its catalog entry's, else the configured defaults; none if `history: false`. */
export function historyPolicy(
  entry: ResolvedEvent,
  defaults: HistoryDefaults,
): HistoryPolicy | undefined {
  if (entry.history === false) return undefined;
  return {
    maxLen: entry.history?.maxLen ?? defaults.HISTORY_MAX_LEN,
    maxAgeMs: entry.history?.maxAgeMs ?? defaults.HISTORY_MAX_AGE_MS,
  };
}
