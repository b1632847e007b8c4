/**
 * Apache Kafka (KRaft mode, no ZooKeeper) from Maven Central: `org.apache.kafka:kafka_2.13` and its
 * runtime dependencies, copied by Maven into .tools/kafka/lib (like the Java test server), plus a
 * log4j2 binding the Maven artifact leaves out. Run as `java -cp 'lib/*' kafka.Kafka server.properties`,
 * which is what the distribution's kafka-server-start.sh does. See src/runtime/kafka-broker.ts.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { findOnPath, runProgram } from '../exec';
import { toolsDir } from '../paths';

/** 4.1.x: the newest line @platformatic/kafka 1.x supports (3.5.0 to 4.1.0 and equivalent). */
export const kafkaVersion = '4.1.1';

export const kafkaDir = path.join(toolsDir, 'kafka');
const libDir = path.join(kafkaDir, 'lib');
const stampPath = path.join(kafkaDir, 'VERSION');
const pomPath = path.join(__dirname, 'kafka-pom.xml');

const installHint =
  'Java 17+ and Maven are needed to run the Kafka broker: apt-get install openjdk-17-jdk-headless maven';

export interface KafkaInstall {
  java: string;
  /** The JVM class path: every jar of lib/. */
  classpath: string;
}

let pending: Promise<KafkaInstall> | undefined;

/** Fetches the broker's jars on first use (about 60 MB, cached with a version stamp); returns how to run it. */
export function ensureKafka(log: (line: string) => void): Promise<KafkaInstall> {
  pending ??= ensureOnce(log).finally(() => {
    pending = undefined;
  });
  return pending;
}

async function ensureOnce(log: (line: string) => void): Promise<KafkaInstall> {
  const java = await findJava();
  const classpath = path.join(libDir, '*');
  if ((await readStamp()) === kafkaVersion) return { java, classpath };
  if (!findOnPath('mvn')) throw new Error(`${installHint} (no mvn on PATH)`);
  log(`Fetching Apache Kafka ${kafkaVersion} (KRaft broker) with Maven into ${kafkaDir}`);
  const started = Date.now();
  // Built beside the final folder and renamed into place: a parallel set-up never sees half a lib/.
  const staging = `${kafkaDir}.tmp-${process.pid}`;
  await fs.rm(staging, { recursive: true, force: true });
  try {
    await runProgram('mvn', [
      '-q',
      '-B',
      '-f',
      pomPath,
      'dependency:copy-dependencies',
      `-DoutputDirectory=${path.join(staging, 'lib')}`,
      '-DincludeScope=runtime',
      `-Dkafka.version=${kafkaVersion}`,
    ]);
    const jars = await fs.readdir(path.join(staging, 'lib'));
    if (!jars.includes(`kafka_2.13-${kafkaVersion}.jar`)) {
      throw new Error(`Maven did not produce kafka_2.13-${kafkaVersion}.jar in ${staging}/lib`);
    }
    await fs.writeFile(path.join(staging, 'VERSION'), `${kafkaVersion}\n`);
    if ((await readStamp()) !== kafkaVersion) {
      await fs.rm(kafkaDir, { recursive: true, force: true });
      await fs.rename(staging, kafkaDir);
    }
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
  log(`Kafka ${kafkaVersion} ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { java, classpath };
}

async function readStamp(): Promise<string | undefined> {
  try {
    return (await fs.readFile(stampPath, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

async function findJava(): Promise<string> {
  const fromHome = process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : undefined;
  const java = fromHome ?? findOnPath('java');
  if (!java) throw new Error(`${installHint} (no java on PATH)`);
  const { stderr } = await runProgram(java, ['-version']).catch((error: Error) => {
    throw new Error(`${installHint} (${java} -version failed: ${error.message.split('\n')[0]})`);
  });
  const major = Number(/version "(\d+)/.exec(stderr)?.[1] ?? 0);
  if (major < 17)
    throw new Error(`${installHint} (Kafka 4 needs Java 17; found ${major || 'an unknown version'} at ${java})`);
  return java;
}
