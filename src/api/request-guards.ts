/**
 * What every request passes before its body is read (fastify's `onRequest` hook): an HTTP/1.1
 * Host header, a target that is a URL, a route (404, or 405 with Allow for a wrong method) and,
 * unless the route is public, the bearer token, compared in constant time. A refusal here is
 * answered at once, and the body nobody wants is dropped only up to a bound.
 */
import type { FastifyRequest } from 'fastify';
import { ApiError } from './errors';
import { tokenMatches } from './token';

/** What src/api/app.ts puts into each route's fastify `config`. */
export interface RouteConfig {
  /** The route's template in OpenAPI syntax (`/pipelines/{pipeline}/runs`); the metrics label. */
  path?: string;
  public?: boolean;
  /** Set on the catch-all of a path's other methods: the methods it serves. */
  allow?: string[];
}

declare module 'fastify' {
  // The API's routes carry a RouteConfig (typed `request.routeOptions.config`).
  interface FastifyContextConfig extends RouteConfig {}
}

/** The path of a request target (origin or absolute form), dot segments resolved; undefined when it is no URL. */
export function pathnameOf(target: string): string | undefined {
  try {
    return new URL(target, 'http://api').pathname;
  } catch {
    return undefined;
  }
}

/**
 * fastify's `rewriteUrl`: an absolute-form target (`http://host/pipelines`) or one with dot
 * segments is routed by its path, as a URL parser reads it; a target that is no URL is left as
 * it is for the `onRequest` check to refuse.
 */
export function routedUrl(target: string): string {
  try {
    const url = new URL(target, 'http://api');
    return url.pathname + url.search;
  } catch {
    return target;
  }
}

function authenticate(header: string | undefined, token: string): void {
  const challenge = { 'WWW-Authenticate': 'Bearer realm="temporal-batch"' };
  const howTo =
    'send "Authorization: Bearer <token>" with the token the API printed at start (BATCH_API_TOKEN, or the api-token file in the data folder).';
  const given = header?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  if (!given) throw new ApiError(401, 'Unauthorized', `This API needs a bearer token: ${howTo}`, challenge);
  if (!tokenMatches(given, token))
    throw new ApiError(401, 'Unauthorized', `The bearer token is wrong: ${howTo}`, challenge);
}

/**
 * What is wrong with the request line and Host header, if anything: checked first, also for a
 * target the router could not even read (fastify's `frameworkErrors`).
 */
export function requestLineRefusal(request: FastifyRequest): ApiError | undefined {
  const { raw } = request;
  if (raw.httpVersion === '1.1' && request.headers.host === undefined)
    return new ApiError(400, 'MissingHost', 'An HTTP/1.1 request needs a Host header, e.g. "Host: 127.0.0.1:8088".');
  if (pathnameOf(raw.url ?? '/') === undefined)
    return new ApiError(
      400,
      'BadPath',
      `The request target ${JSON.stringify(raw.url)} is not a valid URL; send a path such as /pipelines (GET /openapi.json lists every route).`,
    );
  return undefined;
}

/** The `onRequest` hook of an API whose token is `token`. */
export function requestGuard(token: string) {
  return async (request: FastifyRequest): Promise<void> => {
    const refusal = requestLineRefusal(request);
    if (refusal) throw refusal;
    const { method } = request;
    const pathname = pathnameOf(request.raw.url ?? '/');
    if (request.is404)
      throw new ApiError(404, 'NotFound', `No route ${method} ${pathname}; GET /openapi.json lists every route.`);
    const { config } = request.routeOptions;
    if (config.allow)
      throw new ApiError(
        405,
        'MethodNotAllowed',
        `${method} ${pathname} is not served; use ${config.allow.join(' or ')}.`,
        { Allow: config.allow.join(', ') },
      );
    if (!config.public) authenticate(request.headers.authorization, token);
  };
}
