/**
 * Replaces the password in a Redis URL with `***` so the URL can be logged.
 * A string that does not parse as a URL is masked whole after its scheme, because it may still
 * carry a secret.
 */
export function maskRedisUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0] ?? '';
    return `${scheme}***`;
  }
  if (parsed.password) {
    parsed.password = '***';
  }
  // ioredis also reads a password from the query string (`?password=`).
  for (const name of [...parsed.searchParams.keys()]) {
    if (/pass|secret|token/i.test(name)) {
      parsed.searchParams.set(name, '***');
    }
  }
  return parsed.toString().replace(/%2A%2A%2A/g, '***');
}
