/**
 * The cluster's one configuration: the dynamic config every cluster gets (npm run cluster,
 * docker-compose.yml) carries the dev server's settings, the server accepts it, and the config
 * template renders per environment with the values src/cluster/ gives it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { parse } from 'yaml';
import { defaultClusterPorts, servicePorts } from '../src/cluster/cluster';
import { dynamicConfigFile, serverArgs, serviceEnv, ServicesOptions } from '../src/cluster/temporal-services';
import { devServerDynamicConfig } from '../src/devstack/dev-server';
import { runProgram } from '../src/infra/exec';
import { ensureTemporalServer } from '../src/devstack/tools/temporal-server';

describe('cluster configuration (deploy/temporal/)', function () {
  this.timeout(600_000);
  let server: string;
  before(async () => {
    server = (await ensureTemporalServer(() => undefined)).server;
  });

  it('gives the cluster the dynamic config the dev server gets: fairness, one partition, worker heartbeats, ListWorkers', async () => {
    const devServer: Record<string, unknown> = {};
    for (let i = 0; i < devServerDynamicConfig.length; i += 2) {
      const [key, value] = devServerDynamicConfig[i + 1].split('=');
      devServer[key] = JSON.parse(value);
    }
    const file = parse(fs.readFileSync(dynamicConfigFile, 'utf8')) as Record<string, { value: unknown }[]>;
    const cluster = Object.fromEntries(Object.entries(file).map(([key, values]) => [key, values[0].value]));
    assert.deepEqual(cluster, devServer);
    const { stdout, stderr } = await runProgram(server, ['validate-dynamic-config', dynamicConfigFile]);
    // It warns of an unregistered key or a value of the wrong type (and still exits 0).
    assert.doesNotMatch(`${stdout}${stderr}`, /warning/i, 'Temporal Server 1.29.1 knows every key and type');
  });

  it('renders the config template with per-environment values: shards, ports, database, dynamic config', async () => {
    const p = defaultClusterPorts;
    const options: ServicesOptions = {
      serverPath: server,
      numHistoryShards: 4,
      db: { host: '127.0.0.1', port: p.postgres },
      logDir: '/tmp',
      ports: servicePorts(p),
    };
    const { stdout } = await runProgram(server, serverArgs('render-config'), {
      env: { ...process.env, ...serviceEnv(options, 'history') },
    });
    const rendered = parse(stdout) as {
      persistence: {
        numHistoryShards: number;
        datastores: Record<string, { sql: { connectAddr: string; pluginName: string } }>;
      };
      services: Record<string, { rpc: { grpcPort: number; membershipPort: number } }>;
      global: { metrics: { prometheus: { listenAddress: string } } };
      dynamicConfigClient: { filepath: string };
    };
    assert.equal(rendered.persistence.numHistoryShards, 4);
    for (const store of ['default', 'visibility']) {
      assert.equal(rendered.persistence.datastores[store].sql.connectAddr, `127.0.0.1:${p.postgres}`);
      assert.equal(rendered.persistence.datastores[store].sql.pluginName, 'postgres12');
    }
    assert.deepEqual(Object.fromEntries(Object.entries(rendered.services).map(([s, c]) => [s, c.rpc.grpcPort])), {
      frontend: p.frontend,
      history: p.history,
      matching: p.matching,
      worker: p.worker,
    });
    assert.equal(rendered.services.history.rpc.membershipPort, p.historyMembership);
    assert.equal(rendered.global.metrics.prometheus.listenAddress, `127.0.0.1:${p.historyMetrics}`);
    assert.equal(rendered.dynamicConfigClient.filepath, dynamicConfigFile);

    // Without values, the production defaults docker-compose.yml and deploy/ build on.
    const bare = await runProgram(server, serverArgs('render-config'), { env: { PATH: process.env.PATH } });
    assert.match(bare.stdout, /numHistoryShards: 512/);
  });
});
