/**
 * Checks docker-compose.yml without Docker: the YAML parses, and the services,
 * ports, volumes and persistence settings are the ones the README and tests rely on.
 * `docker compose config` would check more, but CI has no Docker engine.
 */
import { readFileSync } from 'node:fs';

import { parseDocument } from 'yaml';

const COMPOSE_FILE = new URL('../docker-compose.yml', import.meta.url);
const TOP_LEVEL_KEYS = ['name', 'services', 'volumes', 'networks', 'configs', 'secrets', 'include'];

type Mapping = Record<string, unknown>;

interface PublishedPort {
  hostIp: string | undefined;
  published: string;
  target: string;
}

function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asMapping(value: unknown, what: string): Mapping {
  if (!isMapping(value)) {
    throw new Error(`${what} must be a mapping, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Reads short (`[IP:]HOST:CONTAINER`) and long (`{ target, published }`) port syntax. */
function publishedPorts(service: Mapping): PublishedPort[] {
  const ports = service.ports ?? [];
  if (!Array.isArray(ports)) {
    throw new Error(`ports must be a list, got ${JSON.stringify(ports)}`);
  }
  return ports.map((entry: unknown): PublishedPort => {
    if (isMapping(entry)) {
      return {
        hostIp: typeof entry.host_ip === 'string' ? entry.host_ip : undefined,
        published: String(entry.published),
        target: String(entry.target),
      };
    }
    const parts = String(entry)
      .replace(/\/(tcp|udp)$/, '')
      .split(':');
    const target = parts.pop() ?? '';
    const published = parts.pop() ?? target;
    return { hostIp: parts.pop(), published, target };
  });
}

/** Splits `command` into words, whether it is written as a list or as one string. */
function commandWords(service: Mapping): string[] {
  const command = service.command;
  if (Array.isArray(command)) {
    return command.map(String);
  }
  return typeof command === 'string' ? command.split(/\s+/).filter((word) => word !== '') : [];
}

function optionValue(words: string[], option: string): string | undefined {
  const index = words.indexOf(option);
  return index === -1 ? undefined : words[index + 1];
}

/** Returns the named volumes a service mounts, skipping bind mounts of host paths. */
function namedVolumes(service: Mapping): string[] {
  const volumes = service.volumes ?? [];
  if (!Array.isArray(volumes)) {
    throw new Error(`volumes must be a list, got ${JSON.stringify(volumes)}`);
  }
  return volumes
    .map((entry: unknown) => (isMapping(entry) ? String(entry.source) : (String(entry).split(':')[0] ?? '')))
    .filter((source) => source !== '' && !/^[./~]/.test(source));
}

function dependencies(service: Mapping): string[] {
  const dependsOn = service.depends_on;
  if (Array.isArray(dependsOn)) {
    return dependsOn.map(String);
  }
  return isMapping(dependsOn) ? Object.keys(dependsOn) : [];
}

describe('docker-compose.yml', () => {
  const document = parseDocument(readFileSync(COMPOSE_FILE, 'utf8'));
  const compose = asMapping(document.toJS() as unknown, 'the compose file');
  const services = asMapping(compose.services, 'services');
  const redis = asMapping(services.redis, 'services.redis');
  const redisInsight = asMapping(services.redisinsight, 'services.redisinsight');

  test('parses without errors or warnings', () => {
    expect(document.errors.map((error) => error.message)).toEqual([]);
    expect(document.warnings.map((warning) => warning.message)).toEqual([]);
  });

  test('uses only known top-level keys', () => {
    const unknownKeys = Object.keys(compose).filter((key) => !TOP_LEVEL_KEYS.includes(key));

    expect(unknownKeys).toEqual([]);
    expect(compose.name).toBe('ai-pipeline-events');
  });

  test.each(Object.keys(services))('%s has an image', (name) => {
    const image = asMapping(services[name], `services.${name}`).image;

    expect(typeof image).toBe('string');
    expect(String(image).trim()).not.toBe('');
  });

  test('redis runs Redis 7 with append-only on', () => {
    const words = commandWords(redis);

    expect(redis.image).toBe('redis:7-alpine');
    expect(words[0]).toBe('redis-server');
    expect(optionValue(words, '--appendonly')).toBe('yes');
    expect(optionValue(words, '--appendfsync')).toBe('everysec');
  });

  test('redis publishes 6379 on loopback', () => {
    const ports = publishedPorts(redis);

    expect(ports).toContainEqual({ hostIp: '127.0.0.1', published: '6379', target: '6379' });
  });

  test('redis keeps /data in a named volume', () => {
    const volumes = asMapping(compose.volumes, 'volumes');
    const mounts = (redis.volumes as unknown[]).map(String);

    expect(mounts).toContain('redis-data:/data');
    expect(Object.keys(volumes)).toContain('redis-data');
  });

  test('redis healthcheck pings with redis-cli', () => {
    const healthcheck = asMapping(redis.healthcheck, 'services.redis.healthcheck');

    expect(healthcheck.test).toEqual(['CMD', 'redis-cli', 'ping']);
  });

  test('redisinsight publishes 5540 and waits for redis', () => {
    const ports = publishedPorts(redisInsight);

    expect(redisInsight.image).toBe('redis/redisinsight:latest');
    expect(ports).toContainEqual({ hostIp: '127.0.0.1', published: '5540', target: '5540' });
    expect(dependencies(redisInsight)).toContain('redis');
  });

  const volumeMounts = Object.keys(services).flatMap((name) =>
    namedVolumes(asMapping(services[name], `services.${name}`)).map((volume) => [name, volume]),
  );
  test.each(volumeMounts)('%s volume %s is declared', (_name, volume) => {
    expect(Object.keys(asMapping(compose.volumes, 'volumes'))).toContain(volume);
  });

  const serviceDependencies = Object.keys(services).flatMap((name) =>
    dependencies(asMapping(services[name], `services.${name}`)).map((dependency) => [name, dependency]),
  );
  test.each(serviceDependencies)('%s dependency %s is a service', (_name, dependency) => {
    expect(Object.keys(services)).toContain(dependency);
  });
});
