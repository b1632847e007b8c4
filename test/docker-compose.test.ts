/**
 * docker-compose.yml cannot run here (no Docker engine), so this checks that it agrees with the
 * code: services, images matching the embedded server's versions, ports, queues, search attributes,
 * and that its Temporal cluster is the one `npm run cluster` runs and test/cluster.test.ts tests:
 * the same config template and dynamic config (deploy/temporal/), the same schema commands, the
 * same PostgreSQL major version. And the object store: the worker keeps media, outputs and
 * results in the S3 gateway's bucket, mounts no shared folder, and gets the S3 access key from the
 * environment of whoever runs compose — never a value in the file or the image.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { postgresVersion } from '../src/cluster/postgres';
import { configTemplateEnv, temporalServices } from '../src/cluster/temporal-services';
import { allSearchAttributes } from '../src/core/search-attributes';
import { loadConfig } from '../src/infra/config';
import { repoRoot } from '../src/infra/paths';
import { parseMetricsAddress } from '../src/infra/telemetry/settings';
import { versitygwVersion } from '../src/devstack/tools/versitygw';
import { storageConfigFromEnv } from '../src/storage/storage-config';

interface Service {
  image?: string;
  build?: unknown;
  environment?: Record<string, string>;
  ports?: string[];
  command?: string[] | string;
  depends_on?: Record<string, unknown> | string[];
  volumes?: string[];
  entrypoint?: string[];
}

// `<<: *temporal-service` merge keys, as docker compose reads them.
const compose = parse(fs.readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const services = compose.services;

interface PackageJson {
  dependencies: Record<string, string>;
}
const config = loadConfig({});

describe('docker-compose.yml', () => {
  it('has the four Temporal services on PostgreSQL, the schema job, the Web UI, search-attribute setup, the worker and the mail catcher', () => {
    assert.deepEqual(Object.keys(services).sort(), [
      'mail',
      'postgresql',
      's3',
      's3-setup',
      'temporal-frontend',
      'temporal-history',
      'temporal-matching',
      'temporal-schema',
      'temporal-setup',
      'temporal-ui',
      'temporal-worker',
      'worker',
    ]);
    for (const service of temporalServices) {
      const env = services[`temporal-${service}`].environment ?? {};
      assert.equal(env.TEMPORAL_DB_HOST, 'postgresql', service);
      assert.equal(env.TEMPORAL_FRONTEND_ADDRESS, 'temporal-frontend:7233', service);
    }
    assert.ok(services.worker.build, 'the worker is built from this repository');
  });

  it('runs each Temporal service with the config template and dynamic config that npm run cluster runs', () => {
    const template = fs.readFileSync(path.join(repoRoot, 'deploy', 'temporal', 'config_template.yaml'), 'utf8');
    const templateVariables = new Set([...template.matchAll(/env "(\w+)"/g)].map((m) => m[1]));
    for (const service of temporalServices) {
      const container = services[`temporal-${service}`];
      assert.ok(
        container.volumes?.includes('./deploy/temporal:/etc/temporal/batch:ro'),
        `${service} mounts deploy/temporal`,
      );
      const command = String(container.command);
      assert.match(
        command,
        new RegExp(`--config /etc/temporal/batch --env ${configTemplateEnv} .*start --service ${service}$`),
      );
      assert.match(command, /TEMPORAL_BROADCAST_ADDRESS=\$\$\(hostname -i/, 'other services reach it at its own IP');
      const env = container.environment ?? {};
      assert.equal(env.TEMPORAL_DYNAMIC_CONFIG_FILE, '/etc/temporal/batch/dynamicconfig.yaml');
      for (const name of Object.keys(env)) assert.ok(templateVariables.has(name), `${name} is read by the template`);
      assert.equal(env.TEMPORAL_NUM_HISTORY_SHARDS, '512', 'production-sized shard count, fixed at first start');
    }
  });

  it('sets up and upgrades both schemas with the commands src/cluster/schema.ts runs, on the PostgreSQL major version the cluster tests run', () => {
    const script = String(services['temporal-schema'].command);
    assert.match(script, /temporal-sql-tool --plugin postgres12 --ep postgresql/);
    assert.match(script, /for pair in temporal:temporal temporal_visibility:visibility/);
    assert.match(script, /setup-schema -v 0\.0/);
    assert.match(script, /update-schema --schema-name postgresql\/v12\/\$\$schema/);
    for (const service of temporalServices) {
      assert.deepEqual(services[`temporal-${service}`].depends_on, {
        'temporal-schema': { condition: 'service_completed_successfully' },
      });
    }
    const major = postgresVersion().split('.')[0];
    assert.equal(services.postgresql.image, `postgres:${major}`);
  });

  it('runs the same Temporal Server and Web UI versions as the embedded dev server', () => {
    // Temporal CLI 1.5.1 ships Server 1.29.1 and UI 2.42.1.
    for (const service of temporalServices) {
      assert.equal(services[`temporal-${service}`].image, 'temporalio/server:1.29.1');
    }
    assert.equal(services['temporal-schema'].image, 'temporalio/admin-tools:1.29.1');
    assert.equal(services['temporal-setup'].image, 'temporalio/admin-tools:1.29.1');
    assert.equal(services['temporal-ui'].image, 'temporalio/ui:2.42.1');
  });

  it('publishes the frontend and Web UI on the ports the code uses by default', () => {
    assert.ok(services['temporal-frontend'].ports?.includes(`${config.devServerPort}:7233`));
    assert.ok(services['temporal-ui'].ports?.includes(`${config.webUiPort}:8080`));
    assert.equal(services['temporal-ui'].environment?.TEMPORAL_ADDRESS, 'temporal-frontend:7233');
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
    assert.equal(env.TEMPORAL_ADDRESS, 'temporal-frontend:7233');
    assert.equal(env.TEMPORAL_NAMESPACE, config.namespace);
    const fromCompose = loadConfig(env);
    assert.deepEqual(fromCompose.queues, config.queues);
    const command = services.worker.command as string[];
    // The image runs the compiled build (Dockerfile): dist/x.js, compiled from src/x.ts.
    const entry = command.find((part) => part.endsWith('.js'));
    assert.match(entry ?? '', /^dist\//, 'the worker runs the compiled entry');
    const source = (entry ?? '').replace(/^dist\//, 'src/').replace(/\.js$/, '.ts');
    assert.ok(fs.existsSync(path.join(repoRoot, source)), `worker entry ${entry} is compiled from ${source}`);
  });

  it('builds the worker image in two stages: compiled with dev dependencies, run with production ones only', () => {
    const dockerfile = fs.readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
    const stages = dockerfile.split(/^FROM /m).slice(1);
    assert.equal(stages.length, 2, 'a build stage and a runtime stage');
    assert.match(stages[0], /RUN npm ci\n/);
    assert.match(stages[0], /RUN npm run build/);
    assert.match(stages[1], /RUN npm ci --omit=dev/);
    assert.match(stages[1], /COPY --from=build \/app\/dist \.\/dist/);
    assert.doesNotMatch(stages[1], /tsx|COPY src/, 'no TypeScript sources or tsx at run time');
    assert.match(stages[1], /CMD \["node", "dist\/workers\/main\.js"/);
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

  describe('object store (no shared disk)', () => {
    const credentialVars = ['BATCH_S3_ACCESS_KEY_ID', 'BATCH_S3_SECRET_ACCESS_KEY'];
    /** `${NAME:?message}`: compose refuses to start while NAME is unset in its environment. */
    const required = (name: string) => new RegExp(`^\\$\\{${name}:\\?[^}]+\\}$`);

    it('mounts no host folder or shared volume into the worker: its /data is its own scratch', () => {
      assert.equal(services.worker.volumes, undefined, `worker volumes: ${JSON.stringify(services.worker.volumes)}`);
      for (const [name, service] of Object.entries(services)) {
        for (const volume of service.volumes ?? []) {
          assert.doesNotMatch(volume, /^\.\/\.data\b/, `${name} mounts the host's data folder: ${volume}`);
        }
      }
      assert.equal(services.worker.environment?.BATCH_DATA_DIR, '/data');
    });

    it('runs the Versity S3 Gateway of the version the project builds, and creates the bucket before the worker starts', () => {
      assert.equal(services.s3.image, `versity/versitygw:v${versitygwVersion}`);
      assert.deepEqual(services.s3.command, ['--port', ':7070', 'posix', '/data']);
      assert.ok(services.s3.volumes?.includes('s3-data:/data'), 'the bucket lives in a named volume');
      const setup = services['s3-setup'];
      const entry = (setup.command as string[]).find((part) => part.endsWith('.js')) ?? '';
      const source = entry.replace(/^dist\//, 'src/').replace(/\.js$/, '.ts');
      assert.ok(fs.existsSync(path.join(repoRoot, source)), `s3-setup runs ${entry}, compiled from ${source}`);
      assert.deepEqual((services.worker.depends_on as Record<string, unknown>)['s3-setup'], {
        condition: 'service_completed_successfully',
      });
    });

    it('gives the worker S3 settings the storage configuration accepts, pointing at that gateway and bucket', () => {
      const env = services.worker.environment ?? {};
      const config = storageConfigFromEnv({
        ...env,
        BATCH_S3_ACCESS_KEY_ID: 'id',
        BATCH_S3_SECRET_ACCESS_KEY: 'secret',
      });
      assert.equal(config.kind, 's3');
      assert.equal(config.s3?.endpoint, 'http://s3:7070');
      assert.equal(config.s3?.bucket, services['s3-setup'].environment?.BATCH_S3_BUCKET);
      assert.equal(config.s3?.forcePathStyle, true);
    });

    it('takes the S3 access key only from the environment compose runs in, never a value written in the file', () => {
      for (const [service, names] of [
        ['worker', credentialVars],
        ['s3-setup', credentialVars],
        ['s3', ['ROOT_ACCESS_KEY_ID', 'ROOT_SECRET_ACCESS_KEY']],
      ] as const) {
        const env = services[service].environment ?? {};
        names.forEach((name, i) => assert.match(String(env[name]), required(credentialVars[i]), `${service} ${name}`));
      }
      const text = fs.readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8');
      assert.doesNotMatch(text, /AWS_SECRET_ACCESS_KEY|env_file/, 'no other credential source');
    });

    it('bakes no S3 setting or credential into the worker image: it copies only the build inputs', () => {
      const dockerfile = fs.readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
      assert.doesNotMatch(dockerfile, /S3|AWS_|SECRET|ACCESS_KEY|credentials/i);
      const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1].split(/\s+/));
      assert.deepEqual(copied.sort(), [
        'package-lock.json',
        'package-lock.json',
        'package.json',
        'package.json',
        'src',
        'tsconfig.build.json',
        'tsconfig.json',
      ]);
      const ignored = fs.readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8').split('\n');
      assert.ok(
        ignored.includes('.data'),
        'the data folder (the gateway credentials.json of npm start -- --s3) stays out of the build context',
      );
    });
  });
});
