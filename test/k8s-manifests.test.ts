/**
 * deploy/k8s cannot run here (no cluster), so this checks that it agrees with the code and with
 * deploy/autoscale.yaml: one Deployment + KEDA ScaledObject per pool, the pool's task queue and
 * worker arguments, min 0 / max / target / cool-down, the workers' environment (task queues, the
 * sign-up shards and their SMTP server) and image, and a termination grace longer than the
 * workers' own shutdown grace (so scale-down drains). No shared disk: media, outputs and results
 * are in the S3 bucket the ConfigMap names, each pod's data folder is its own emptyDir, there is no
 * ReadWriteMany volume, and the S3 access key comes only from a Secret the operator creates.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { defaultAutoscaleFile, loadAutoscaleConfig } from '../src/autoscaler/config';
import { loadConfig } from '../src/infra/config';
import { repoRoot } from '../src/infra/paths';
import { workerShutdownGraceSeconds } from '../src/workers/create-workers';
import { planRole, parseRoles } from '../src/workers/roles';
import { isShardQueueOf, parseShardQueues } from '../src/workers/shard-queues';
import { storageConfigFromEnv } from '../src/storage/storage-config';
import { kafkaSettingsFromEnv } from '../src/topics/kafka-config';

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  spec?: unknown;
}

interface DeploymentSpec {
  replicas?: number;
  selector: { matchLabels: Record<string, string> };
  template: {
    metadata: { labels: Record<string, string> };
    spec: {
      terminationGracePeriodSeconds: number;
      containers: {
        image: string;
        command: string[];
        args: string[];
        envFrom: unknown;
        volumeMounts: { name: string; mountPath: string }[];
      }[];
      volumes: { name: string; emptyDir?: unknown; persistentVolumeClaim?: unknown }[];
    };
  };
}

interface ScaledObjectSpec {
  scaleTargetRef: { name: string };
  minReplicaCount: number;
  maxReplicaCount: number;
  cooldownPeriod: number;
  advanced: { horizontalPodAutoscalerConfig: { behavior: { scaleDown: { stabilizationWindowSeconds: number } } } };
  triggers: { type: string; metadata: Record<string, unknown> }[];
}

const dir = path.join(repoRoot, 'deploy', 'k8s');
const kustomization = parseAllDocuments(fs.readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8'))[0].toJS() as {
  resources: string[];
};
const manifests: Manifest[] = kustomization.resources.flatMap((file) =>
  parseAllDocuments(fs.readFileSync(path.join(dir, file), 'utf8')).map((doc) => {
    assert.equal(doc.errors.length, 0, `${file}: ${doc.errors.join('; ')}`);
    return doc.toJS() as Manifest;
  }),
);
const ofKind = (kind: string) => manifests.filter((m) => m.kind === kind);
const named = (kind: string, name: string) => ofKind(kind).find((m) => m.metadata.name === name);
const deploymentSpec = (name: string) => named('Deployment', name)?.spec as DeploymentSpec | undefined;
const scaledObjectSpec = (name: string) => named('ScaledObject', name)?.spec as ScaledObjectSpec | undefined;
const codeConfig = loadConfig({});
const autoscale = loadAutoscaleConfig(defaultAutoscaleFile, codeConfig);
const deploymentName = (pool: string) => `batch-worker-${pool.replace('#', '-')}`;
const configMap = named('ConfigMap', 'batch-worker-config');
/** The Secret the operator creates with the S3 access key (docs/storage.md); never in this folder. */
const s3Secret = 'batch-s3-credentials';

/** Metadata fields KEDA's temporal scaler reads (pkg/scalers/temporal_scaler.go, KEDA 2.17+). */
const kedaTemporalFields = [
  'endpoint',
  'endpointFromEnv',
  'namespace',
  'activationTargetQueueSize',
  'targetQueueSize',
  'taskQueue',
  'queueTypes',
  'buildId',
  'workerDeploymentName',
  'workerDeploymentBuildId',
  'minConnectTimeout',
  'unsafeSsl',
  'tlsServerName',
];

/** Metadata fields KEDA's kafka scaler reads (pkg/scalers/kafka_scaler.go, KEDA 2.17+). */
const kedaKafkaFields = [
  'bootstrapServers',
  'bootstrapServersFromEnv',
  'consumerGroup',
  'consumerGroupFromEnv',
  'topic',
  'topicFromEnv',
  'lagThreshold',
  'activationLagThreshold',
  'offsetResetPolicy',
  'allowIdleConsumers',
  'scaleToZeroOnInvalidOffset',
  'excludePersistentLag',
  'limitToPartitionsWithLag',
  'ensureEvenDistributionOfPartitions',
  'partitionLimitation',
  'version',
  'sasl',
  'tls',
  'unsafeSsl',
];

describe('deploy/k8s manifests', () => {
  it('lists every file of the folder in kustomization.yaml', () => {
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    assert.deepEqual([...kustomization.resources].sort(), files.sort());
  });

  it('gives the workers the same Temporal namespace and task queues as the code', () => {
    assert.ok(configMap?.data, 'ConfigMap batch-worker-config');
    const env = configMap.data;
    assert.ok(env.TEMPORAL_ADDRESS, 'TEMPORAL_ADDRESS is set');
    assert.equal(env.TEMPORAL_NAMESPACE, codeConfig.namespace);
    assert.deepEqual(loadConfig(env).queues, codeConfig.queues);
  });

  it('gives the sign-up shard workers their queue, shard count and an SMTP server, as docker-compose.yml does', () => {
    const env = configMap?.data ?? {};
    const fromMap = loadConfig(env);
    assert.deepEqual(
      { queue: fromMap.signup.queue, shards: fromMap.signup.shards },
      { queue: codeConfig.signup.queue, shards: codeConfig.signup.shards },
    );
    assert.ok(env.BATCH_SMTP_HOST, 'BATCH_SMTP_HOST is set: a pod has no local mail catcher');
    assert.equal(typeof env.BATCH_SMTP_PORT, 'string', 'BATCH_SMTP_PORT: ConfigMap values are strings');
    assert.ok(fromMap.mail.smtpPort > 0);
    // One pool per sign-up shard, so every shard the flow routes to has workers.
    const signupQueues = autoscale.pools
      .filter((p) => isShardQueueOf(p.taskQueue, fromMap.signup.queue))
      .map((p) => p.taskQueue);
    assert.deepEqual(signupQueues.sort(), parseShardQueues(`${fromMap.signup.queue}:${fromMap.signup.shards}`).sort());
  });

  it('keeps media in the S3 bucket the ConfigMap names: settings the storage configuration accepts, no credential among them', () => {
    const env = configMap?.data ?? {};
    const config = storageConfigFromEnv({ ...env, BATCH_S3_ACCESS_KEY_ID: 'id', BATCH_S3_SECRET_ACCESS_KEY: 'secret' });
    assert.equal(config.kind, 's3');
    assert.ok(config.s3?.bucket);
    for (const key of Object.keys(env)) {
      assert.doesNotMatch(
        key,
        /SECRET|ACCESS_KEY|PASSWORD|TOKEN|^AWS_/,
        `${key} is a credential: it belongs in the Secret`,
      );
    }
  });

  it('shares no disk between pods: no PersistentVolumeClaim, no ReadWriteMany, no Secret with values in the repository', () => {
    assert.deepEqual(ofKind('PersistentVolumeClaim'), []);
    for (const file of kustomization.resources) {
      const text = fs.readFileSync(path.join(dir, file), 'utf8');
      assert.doesNotMatch(text, /^\s*accessModes:.*ReadWriteMany/m, `${file} asks for a ReadWriteMany volume`);
      assert.doesNotMatch(text, /persistentVolumeClaim:/, `${file} mounts a claim`);
    }
    assert.deepEqual(ofKind('Secret'), [], 'the S3 Secret is created by the operator, not kept in git');
    assert.match(
      fs.readFileSync(path.join(dir, 'worker-config.yaml'), 'utf8'),
      new RegExp(`kubectl create secret generic ${s3Secret}`),
      'the ConfigMap says how to create the Secret',
    );
  });

  it('has one Deployment and one ScaledObject per autoscaled pool, and no other', () => {
    const expected = autoscale.pools.map((p) => deploymentName(p.name)).sort();
    assert.deepEqual(
      ofKind('Deployment')
        .map((m) => m.metadata.name)
        .sort(),
      expected,
    );
    assert.deepEqual(
      ofKind('ScaledObject')
        .map((m) => m.metadata.name)
        .sort(),
      expected,
    );
  });

  for (const pool of autoscale.pools) {
    const name = deploymentName(pool.name);

    it(`${name}: runs the worker entry point for ${pool.taskQueue}, with the shared config, data and image`, () => {
      const deployment = deploymentSpec(name);
      assert.ok(deployment, `Deployment ${name}`);
      const pod = deployment.template.spec;
      assert.equal(deployment.replicas, undefined, 'KEDA owns the replica count');
      assert.deepEqual(deployment.selector.matchLabels, deployment.template.metadata.labels);
      const [container] = pod.containers;
      const version = (JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string })
        .version;
      assert.equal(container.image, `temporal-batch-worker:${version}`);
      assert.ok(fs.existsSync(path.join(repoRoot, 'Dockerfile')), 'the image is built from the Dockerfile');
      // The image runs the compiled build (Dockerfile): dist/x.js, compiled from src/x.ts.
      const entry = container.command.find((part) => part.endsWith('.js')) ?? '';
      assert.match(entry, /^dist\//, 'runs the compiled entry');
      const source = entry.replace(/^dist\//, 'src/').replace(/\.js$/, '.ts');
      assert.ok(fs.existsSync(path.join(repoRoot, source)), `entry ${entry} is compiled from ${source}`);
      // The worker arguments serve exactly the pool's task queue, read with the worker's own parsers.
      const args = container.args;
      const value = (option: string) => (args.includes(option) ? args[args.indexOf(option) + 1] : undefined);
      const served = [
        ...parseRoles(value('--roles')).map((role) => planRole(role, codeConfig).taskQueue),
        ...parseShardQueues(value('--shards')),
      ];
      assert.deepEqual(served, [pool.taskQueue]);
      assert.deepEqual(container.envFrom, [
        { configMapRef: { name: 'batch-worker-config' } },
        { secretRef: { name: s3Secret } },
      ]);
      const mount = container.volumeMounts.find((m) => m.mountPath === configMap?.data?.BATCH_DATA_DIR);
      assert.ok(mount, `the data volume is mounted at BATCH_DATA_DIR`);
      const volume = pod.volumes.find((v) => v.name === mount.name);
      assert.ok(
        volume?.emptyDir,
        `BATCH_DATA_DIR is the pod's own emptyDir, not a shared volume: ${JSON.stringify(volume)}`,
      );
      assert.deepEqual(
        pod.volumes.filter((v) => !v.emptyDir),
        [],
        'no volume but the pod-private scratch',
      );
      assert.ok(
        pod.terminationGracePeriodSeconds > workerShutdownGraceSeconds,
        `terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} > the workers' shutdown grace ${workerShutdownGraceSeconds} s`,
      );
    });

    it(`${name}: KEDA scales it from zero on the backlog of ${pool.taskQueue}, as deploy/autoscale.yaml says`, () => {
      const scaled = scaledObjectSpec(name);
      assert.ok(scaled, `ScaledObject ${name}`);
      assert.equal(scaled.scaleTargetRef.name, name);
      assert.deepEqual([scaled.minReplicaCount, scaled.maxReplicaCount], [pool.min, pool.max]);
      assert.equal(scaled.minReplicaCount, 0);
      assert.equal(scaled.cooldownPeriod, pool.coolDownSeconds);
      assert.equal(
        scaled.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.stabilizationWindowSeconds,
        pool.coolDownSeconds,
      );
      assert.deepEqual(
        scaled.triggers.map((t) => t.type),
        pool.kafkaLag ? ['temporal', 'kafka'] : ['temporal'],
        'a temporal trigger, and a kafka one where the pool has kafkaLag',
      );
      const [trigger] = scaled.triggers;
      const metadata = trigger.metadata;
      for (const [key, value] of Object.entries(metadata)) {
        assert.ok(kedaTemporalFields.includes(key), `${key} is a field of KEDA's temporal scaler`);
        assert.equal(typeof value, 'string', `${key}: KEDA trigger metadata values are strings`);
      }
      assert.equal(metadata.endpoint, configMap?.data?.TEMPORAL_ADDRESS);
      assert.equal(metadata.namespace, configMap?.data?.TEMPORAL_NAMESPACE);
      assert.equal(metadata.taskQueue, pool.taskQueue);
      assert.equal(metadata.queueTypes, pool.taskType);
      assert.equal(metadata.targetQueueSize, String(pool.targetBacklogPerWorker));
    });

    if (pool.kafkaLag) {
      const lag = pool.kafkaLag;
      it(`${name}: KEDA also scales it on the lag of consumer group ${lag.consumerGroup}, as kafkaLag says`, () => {
        const trigger = scaledObjectSpec(name)?.triggers.find((t) => t.type === 'kafka');
        assert.ok(trigger, `a kafka trigger on ScaledObject ${name}`);
        const metadata = trigger.metadata;
        for (const [key, value] of Object.entries(metadata)) {
          assert.ok(kedaKafkaFields.includes(key), `${key} is a field of KEDA's kafka scaler`);
          assert.equal(typeof value, 'string', `${key}: KEDA trigger metadata values are strings`);
        }
        // The brokers and group the workers and the router use (src/topics/kafka-config.ts).
        const kafka = kafkaSettingsFromEnv(configMap?.data ?? {});
        assert.deepEqual(String(metadata.bootstrapServers).split(','), kafka.brokers);
        assert.equal(metadata.consumerGroup, lag.consumerGroup);
        assert.equal(kafka.groupId, lag.consumerGroup, 'the router consumer group is the one scaled on');
        assert.equal(metadata.topic, lag.topic);
        assert.equal(metadata.lagThreshold, String(lag.lagThreshold));
        // The local autoscaler counts a never-committed partition from its start (src/autoscaler/consumer-lag.ts).
        assert.equal(metadata.offsetResetPolicy, 'earliest');
      });
    }
  }
});
