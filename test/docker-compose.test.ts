/**
 * docker-compose.yml cannot run here (no Docker engine), so this checks that it agrees with the
 * code: services, images matching the embedded server's versions, ports, queues, search attributes.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { allSearchAttributes } from '../src/core/search-attributes';
import { loadConfig } from '../src/runtime/config';
import { repoRoot } from '../src/runtime/paths';
import { parseMetricsAddress } from '../src/runtime/telemetry/settings';

interface Service {
  image?: string;
  build?: unknown;
  environment?: Record<string, string>;
  ports?: string[];
  command?: string[] | string;
  depends_on?: Record<string, unknown> | string[];
}

const compose = parse(fs.readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service>;
};
const services = compose.services;

interface PackageJson {
  dependencies: Record<string, string>;
}
const config = loadConfig({});

describe('docker-compose.yml', () => {
  it('has Temporal with PostgreSQL, the Web UI, search-attribute setup, the worker and the mail catcher', () => {
    assert.deepEqual(Object.keys(services).sort(), [
      'mail',
      'postgresql',
      'temporal',
      'temporal-setup',
      'temporal-ui',
      'worker',
    ]);
    assert.equal(services.temporal.environment?.DB, 'postgres12');
    assert.equal(services.temporal.environment?.POSTGRES_SEEDS, 'postgresql');
    assert.ok(services.worker.build, 'the worker is built from this repository');
  });

  it('runs the same Temporal Server and Web UI versions as the embedded dev server', () => {
    // Temporal CLI 1.5.1 ships Server 1.29.1 and UI 2.42.1.
    assert.equal(services.temporal.image, 'temporalio/auto-setup:1.29.1');
    assert.equal(services['temporal-setup'].image, 'temporalio/admin-tools:1.29.1');
    assert.equal(services['temporal-ui'].image, 'temporalio/ui:2.42.1');
  });

  it('publishes the frontend and Web UI on the ports the code uses by default', () => {
    assert.ok(services.temporal.ports?.includes(`${config.devServerPort}:7233`));
    assert.ok(services['temporal-ui'].ports?.includes(`${config.webUiPort}:8080`));
    assert.equal(services['temporal-ui'].environment?.TEMPORAL_ADDRESS, 'temporal:7233');
  });

  it('serves the worker Prometheus metrics on a published port, in a form the worker accepts', () => {
    const raw = String(services.worker.environment?.BATCH_METRICS_PORT ?? '');
    const address = parseMetricsAddress('BATCH_METRICS_PORT', raw);
    assert.ok(address, 'metrics are on');
    assert.equal(address.host, '0.0.0.0', 'reachable from outside the container');
    assert.ok(services.worker.ports?.includes(`${address.port}:${address.port}`), 'its port is published');
  });

  it('gives the worker the same task queues and namespace as the code', () => {
    const env = services.worker.environment ?? {};
    assert.equal(env.TEMPORAL_ADDRESS, 'temporal:7233');
    assert.equal(env.TEMPORAL_NAMESPACE, config.namespace);
    const fromCompose = loadConfig(env);
    assert.deepEqual(fromCompose.queues, config.queues);
    const command = services.worker.command as string[];
    const entry = command.find((part) => part.endsWith('.ts'));
    assert.ok(entry && fs.existsSync(path.join(repoRoot, entry)), `worker entry ${entry} exists`);
  });

  it('runs the mail catcher of the embedded stack, and the worker mails through it and serves the sign-up shards', () => {
    const maildev = (JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as PackageJson)
      .dependencies.maildev;
    assert.equal(services.mail.image, `maildev/maildev:${maildev}`);
    assert.ok(services.mail.ports?.includes(`${config.mail.smtpPort}:1025`));
    assert.ok(services.mail.ports?.includes(`${config.mail.uiPort}:1080`));
    const fromCompose = loadConfig(services.worker.environment ?? {});
    assert.equal(fromCompose.mail.smtpHost, 'mail');
    assert.equal(fromCompose.mail.smtpPort, 1025);
    assert.deepEqual(
      { queue: fromCompose.signup.queue, shards: fromCompose.signup.shards },
      { queue: config.signup.queue, shards: config.signup.shards },
    );
    const command = services.worker.command as string[];
    assert.equal(command[command.indexOf('--shards') + 1], `${config.signup.queue}:${config.signup.shards}`);
  });

  it('registers every search attribute the workflows set, with its type', () => {
    const script = String(services['temporal-setup'].command);
    const cliType: Record<string, string> = { KEYWORD: 'Keyword', KEYWORD_LIST: 'KeywordList' };
    for (const key of allSearchAttributes) {
      const type = cliType[key.type];
      assert.ok(type, `${key.name}: type ${key.type} has a CLI name`);
      const loop = /for attribute in ([\w ]+); do[^;]*--type Keyword \|\|/.exec(script);
      const inKeywordLoop = type === 'Keyword' && loop?.[1].split(' ').includes(key.name);
      const single = new RegExp(`--name ${key.name} --type ${type}\\b`).test(script);
      assert.ok(inKeywordLoop || single, `${key.name} is created as ${type}`);
    }
  });
});
