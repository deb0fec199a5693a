import type { ErrorBody } from '../error-body';

/** Every client action is answered with one of these. */
export interface AckOk<T> {
  ok: true;
  data: T;
}
export interface AckError {
  ok: false;
  error: ErrorBody;
}
export type Ack<T> = AckOk<T> | AckError;
