import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { ManagedProcess, type RunResult, runToCompletion } from './managed-process.js';
import { e2ePackageDirectory } from './paths.js';

/**
 * Apache Kafka's own Java software (clients, tools, Streams, Connect, the broker) run from the
 * jars `scripts/kafka-jars.sh` resolves into packages/e2e/java/lib. Test programs are single-file
 * Java sources in packages/e2e/java/src, launched as `java -cp 'lib/*' Program.java` (no build).
 */

export const javaDirectory = join(e2ePackageDirectory, 'java');
export const javaLibraryDirectory = join(javaDirectory, 'lib');
export const javaSourceDirectory = join(javaDirectory, 'src');
export const javaClasspath = `${javaLibraryDirectory}/*`;
const log4jConfigurationPath = join(javaDirectory, 'log4j2.properties');

export interface JavaLaunch {
  /** A main class on the classpath (`org.apache.kafka.tools.TopicCommand`) or a source file name in java/src (`Producer.java`). */
  main: string;
  arguments?: readonly string[];
  /** Maximum heap; the JVM default (a quarter of memory) is far too much with several JVMs. */
  heapMb?: number;
  /** Initial heap (`-Xms`); kafka-server-start.sh sets it equal to the maximum. */
  initialHeapMb?: number;
  /**
   * 'test' (default): serial GC and the C1 compiler only, which start fastest. 'kafka': the flags
   * of Kafka's bin/kafka-run-class.sh (G1, full JIT), for benchmarks.
   */
  jvmFlags?: 'test' | 'kafka';
  /** More JVM options, before the system properties and class path. */
  jvmOptions?: readonly string[];
  systemProperties?: Record<string, string>;
  environment?: Record<string, string>;
  workingDirectory?: string;
  label?: string;
  /** Class directories or jars placed before Kafka's jars (e.g. kafka-connect.ts's compatibility classes). */
  classpathBefore?: readonly string[];
}

/** Fails with the command to run when the jars were never resolved. */
export async function assertKafkaJars(): Promise<void> {
  try {
    await access(join(javaLibraryDirectory, '.resolved'));
  } catch {
    throw new Error(
      `Kafka's jars are missing in ${javaLibraryDirectory}: run \`bash scripts/kafka-jars.sh\` (npm test does)`,
    );
  }
}

const testJvmFlags = ['-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Xshare:auto'];
/** KAFKA_JVM_PERFORMANCE_OPTS of Kafka's bin/kafka-run-class.sh. */
const kafkaScriptJvmFlags = [
  '-server',
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:InitiatingHeapOccupancyPercent=35',
  '-XX:+ExplicitGCInvokesConcurrent',
  '-XX:MaxInlineLevel=15',
  '-Djava.awt.headless=true',
];

export function javaArguments(launch: JavaLaunch): string[] {
  const main = launch.main.endsWith('.java') ? join(javaSourceDirectory, launch.main) : launch.main;
  const properties = {
    'log4j2.configurationFile': log4jConfigurationPath,
    'java.net.preferIPv4Stack': 'true',
    ...launch.systemProperties,
  };
  return [
    `-Xmx${launch.heapMb ?? 256}m`,
    ...(launch.initialHeapMb === undefined ? [] : [`-Xms${launch.initialHeapMb}m`]),
    ...(launch.jvmFlags === 'kafka' ? kafkaScriptJvmFlags : testJvmFlags),
    ...(launch.jvmOptions ?? []),
    ...Object.entries(properties).map(([name, value]) => `-D${name}=${value}`),
    '-cp',
    [...(launch.classpathBefore ?? []), javaClasspath].join(':'),
    main,
    ...(launch.arguments ?? []),
  ];
}

/** Starts a long-running Java program (broker, Connect worker, Streams app) as a managed child. */
export function startJava(launch: JavaLaunch): ManagedProcess {
  return new ManagedProcess({
    label: launch.label ?? launch.main,
    command: 'java',
    arguments: javaArguments(launch),
    environment: launch.environment,
    workingDirectory: launch.workingDirectory,
  });
}

/** Runs a Java program to completion within `timeoutMs`. */
export function runJava(
  launch: JavaLaunch & { timeoutMs: number; input?: string | Buffer },
): Promise<RunResult> {
  return runToCompletion({
    command: 'java',
    arguments: javaArguments(launch),
    input: launch.input,
    timeoutMs: launch.timeoutMs,
    environment: launch.environment,
  });
}
