import { Catch, type ArgumentsHost, type RpcExceptionFilter } from '@nestjs/common';
import { throwError, type Observable } from 'rxjs';

/**
 * Hands a handler's error to `RedisStreamsTransport` unchanged. Nest's default filter replaces
 * every error that is not an `RpcException` with `{ status: 'error', message: 'Internal server
 * error' }`, which loses the message for the dead letter and the `NonRetryableEventError` class.
 * Bind it to event controllers with `@UseFilters(EventErrorsFilter)`, or with
 * `useGlobalFilters()` on a microservice-only application.
 */
@Catch()
export class EventErrorsFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    return throwError(() => exception);
  }
}

/** Tells whether an error is the placeholder that Nest's default RPC filter puts in place of the real one. */
export function isNestPlaceholderError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null || error instanceof Error) {
    return false;
  }
  const { status, message } = error as { status?: unknown; message?: unknown };
  return status === 'error' && message === 'Internal server error';
}
