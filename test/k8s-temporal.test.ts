/**
 * deploy/temporal as a Kubernetes kustomization cannot run here (no cluster), so this checks that it
 * runs what `npm run cluster` runs and test/cluster.test.ts tests: the four services as separate
 * Deployments of the same server version on the same config template and dynamic config (the files
 * of this folder, as a ConfigMap), the same schema commands as docker-compose.yml, and the address
 * the worker fleet (deploy/k8s) connects to.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { temporalServices } from '../src/cluster/temporal-services';
import { repoRoot } from '../src/infra/paths';

interface Container {
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  envFrom?: { secretRef?: { name: string } }[];
  volumeMounts?: { name: string; mountPath: string }[];
}
interface Manifest {
  kind: string;
  metadata: { name: string };
  spec: {
    template: { spec: { containers: Container[]; volumes?: { name: string; configMap?: { name: string } }[] } };
    ports?: { port: number }[];
  };
  stringData?: Record<string, string>;
}

const dir = path.join(repoRoot, 'deploy', 'temporal');
const kustomization = parse(fs.readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8')) as {
  namespace: string;
  resources: string[];
  configMapGenerator: { name: string; files: string[] }[];
};
const manifests: Manifest[] = kustomization.resources.flatMap((file) =>
  parseAllDocuments(fs.readFileSync(path.join(dir, file), 'utf8')).map((doc) => {
    assert.equal(doc.errors.length, 0, `${file}: ${doc.errors.join('; ')}`);
    return doc.toJS() as Manifest;
  }),
);
const find = (kind: string, name: string) => {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  assert.ok(found, `${kind} ${name} in deploy/temporal`);
  return found;
};
const compose = parse(fs.readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, { command: string[]; environment: Record<string, string> }>;
};

describe('deploy/temporal (the Temporal cluster on Kubernetes)', () => {
  it('ships the config template and dynamic config that npm run cluster runs, as one ConfigMap', () => {
    const generator = kustomization.configMapGenerator.find((g) => g.name === 'temporal-config');
    assert.deepEqual(generator?.files.sort(), ['config_template.yaml', 'dynamicconfig.yaml']);
    for (const file of generator!.files) assert.ok(fs.existsSync(path.join(dir, file)), file);
  });

  it('runs each service as its own Deployment of temporalio/server 1.29.1 on that template, like docker-compose.yml', () => {
    const template = fs.readFileSync(path.join(dir, 'config_template.yaml'), 'utf8');
    const templateVariables = new Set([...template.matchAll(/env "(\w+)"/g)].map((m) => m[1]));
    const secret = find('Secret', 'temporal-postgres');
    for (const service of temporalServices) {
      const deployment = find('Deployment', `temporal-${service}`);
      const pod = deployment.spec.template.spec;
      const [container] = pod.containers;
      assert.equal(container.image, 'temporalio/server:1.29.1');
      const command = container.command!.join(' ');
      assert.equal(
        command,
        `temporal-server --root / --config /etc/temporal/batch --env config_template --allow-no-auth start --service ${service}`,
      );
      // The same command docker-compose.yml runs after it sets the broadcast address.
      assert.ok(String(compose.services[`temporal-${service}`].command).endsWith(`exec ${command}`), service);
      const mount = container.volumeMounts?.find((m) => m.mountPath === '/etc/temporal/batch');
      assert.equal(pod.volumes?.find((v) => v.name === mount?.name)?.configMap?.name, 'temporal-config');
      const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom]));
      assert.deepEqual(env.TEMPORAL_BROADCAST_ADDRESS, { fieldRef: { fieldPath: 'status.podIP' } });
      for (const name of [...Object.keys(env), ...Object.keys(secret.stringData ?? {})]) {
        assert.ok(templateVariables.has(name), `${name} is read by the template`);
      }
      const composeEnv = compose.services[`temporal-${service}`].environment;
      for (const name of ['TEMPORAL_NUM_HISTORY_SHARDS', 'TEMPORAL_BIND_ADDRESS', 'TEMPORAL_DYNAMIC_CONFIG_FILE']) {
        assert.equal(env[name], composeEnv[name], `${service}: ${name} as in docker-compose.yml`);
      }
      assert.deepEqual(container.envFrom, [{ secretRef: { name: 'temporal-postgres' } }]);
    }
  });

  it('sets up and upgrades the schemas with the same commands as docker-compose.yml', () => {
    const job = String(find('Job', 'temporal-schema').spec.template.spec.containers[0].args);
    const loop = (script: string) => /for pair in .*done/.exec(script)?.[0];
    const composeScript = String(compose.services['temporal-schema'].command).replace(/\$\$/g, '$');
    assert.ok(loop(job));
    assert.equal(loop(job), loop(composeScript));
    const setup = String(find('Job', 'temporal-setup').spec.template.spec.containers[0].args);
    assert.equal(setup, String(compose.services['temporal-setup'].command).replace(/\$\$/g, '$'));
  });

  it('serves the frontend where the worker fleet (deploy/k8s) connects', () => {
    const service = find('Service', 'temporal-frontend');
    assert.ok(service.spec.ports?.some((p) => p.port === 7233));
    const workerConfig = parseAllDocuments(
      fs.readFileSync(path.join(repoRoot, 'deploy', 'k8s', 'worker-config.yaml'), 'utf8'),
    )[0].toJS() as { data: Record<string, string> };
    assert.equal(
      workerConfig.data.TEMPORAL_ADDRESS,
      `temporal-frontend.${kustomization.namespace}.svc.cluster.local:7233`,
    );
  });
});
