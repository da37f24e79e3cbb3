import type { Socket } from 'node:net';
import type { ErrorCode } from '../domain/errors.js';
import { PROBLEM_CONTENT_TYPE, problemOf } from './problem.js';

/** Node's parser and timeout errors, by code: what the client sent wrong, in the catalogue's words. */
function codeOf(error: NodeJS.ErrnoException): { code: ErrorCode; detail: string } {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { code: 'request_timeout', detail: 'The request (its headers and body) did not arrive in time.' };
    case 'HPE_HEADER_OVERFLOW':
      return { code: 'headers_too_large', detail: 'The request headers are larger than the server accepts.' };
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return { code: 'invalid_request', detail: 'The Content-Length header is invalid, repeated with another value, or sent with Transfer-Encoding.' };
    case 'HPE_INVALID_TRANSFER_ENCODING':
      return { code: 'invalid_request', detail: 'The Transfer-Encoding header is invalid or sent with Content-Length.' };
    default:
      return { code: 'invalid_request', detail: 'The request is not valid HTTP.' };
  }
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

/**
 * Fastify's clientErrorHandler: a request Node refused before Fastify saw it
 * (malformed, stalled past REQUEST_TIMEOUT_MS/HEADERS_TIMEOUT_MS, headers too
 * large) still gets a problem+json answer, then the connection is closed.
 * A socket already answering (or gone) is only closed.
 */
export function clientErrorHandler(error: NodeJS.ErrnoException, socket: Socket): void {
  const answering = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  if (error.code === 'ECONNRESET' || !socket.writable || answering) {
    socket.destroy(error);
    return;
  }
  const { code, detail } = codeOf(error);
  const problem = problemOf(code, detail);
  const body = JSON.stringify(problem);
  socket.end(
    `HTTP/1.1 ${problem.status} ${REASONS[problem.status] ?? 'Bad Request'}\r\n` +
      `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
