// The messages between the spec (spec/support/fleet.ts), the cluster primary
// (fleet-primary.ts) and its workers (fleet-app.ts).
import type { QSessionOptions } from 'koa-qsession';

/** Serializable qsession options per variant name; null: bare Koa (no session middleware). */
export interface FleetConfig {
  variants: Record<string, Omit<QSessionOptions, 'store'> | Record<string, unknown> | null>;
}

/** A worker's counters since the last reset. */
export interface WorkerStats {
  worker: number;
  pid: number;
  requests: number;
  /** Errors thrown through the middleware, by name (a 409 SessionConflictError, a 503 SessionStoreError, ...). */
  errors: Record<string, number>;
  /** 'conflict' events, and the first keys they named. */
  conflicts: number;
  conflictKeys: string[];
  /** 'conflict' events by their `resolution` ('failed' | 'overwritten'). */
  resolutions: Record<string, number>;
  /** The first 'warning' events' messages. */
  warnings: string[];
  storeErrors: number;
  /** Handlers of `<variant>/read` running now, and the most seen at once. */
  inFlight: Record<string, number>;
  maxInFlight: Record<string, number>;
}

export type PrimaryToWorker = { type: 'open'; gate: string } | { type: 'stats'; id: number; reset: boolean };

export type WorkerToPrimary =
  | { type: 'listening'; worker: number; port: number; startErrors: Record<string, string> }
  | { type: 'entered'; gate: string; worker: number }
  | { type: 'stats'; id: number; stats: WorkerStats };

export type SpecToPrimary = PrimaryToWorker;

export type PrimaryToSpec =
  | { type: 'ready'; port: number; pids: number[]; startErrors: Record<string, string> }
  | { type: 'entered'; gate: string; worker: number }
  | { type: 'stats'; id: number; stats: WorkerStats[] }
  | { type: 'exit'; worker: number; pid: number; code: number | null; signal: string | null }
  | { type: 'failed'; message: string };
