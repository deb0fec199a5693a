import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { TestRedisServer } from './redis-server';

const run = promisify(execFile);

/** Rate limits no test's own traffic reaches. */
export const GENEROUS_RATE_LIMITS = {
  RATE_SOCKET_BURST: '1000',
  RATE_SOCKET_PER_SEC: '1000',
  RATE_USER_BURST: '1000',
  RATE_USER_PER_SEC: '1000',
};

/**
 * A Redis Cluster of its own for tests: `masters` redis-server processes on free loopback ports
 * (cluster mode, appendonly), joined with `redis-cli --cluster create`, stopped by pid in close().
 */
export class TestRedisCluster {
  private constructor(readonly nodes: TestRedisServer[]) {}

  /** `replicasPerMaster`: 1 gives each master a replica that takes over when the master dies. */
  static async start(masters = 3, replicasPerMaster = 0): Promise<TestRedisCluster> {
    const nodes = await Promise.all(
      Array.from({ length: masters * (1 + replicasPerMaster) }, () =>
        TestRedisServer.start([
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          'nodes.conf',
          '--cluster-node-timeout',
          '2000',
        ]),
      ),
    );
    const cluster = new TestRedisCluster(nodes);
    try {
      await run(
        'redis-cli',
        [
          '--cluster',
          'create',
          ...nodes.map((n) => `127.0.0.1:${n.port}`),
          '--cluster-replicas',
          String(replicasPerMaster),
          '--cluster-yes',
        ],
        { timeout: 30_000 },
      );
      await cluster.waitUntilServing();
      // A replica that has not synced once refuses to take over (its data is too old to count).
      if (replicasPerMaster > 0) await cluster.waitUntilReplicasSynced(masters * replicasPerMaster);
    } catch (err) {
      await cluster.close();
      throw err;
    }
    return cluster;
  }

  /** The seed list as REDIS_URL takes it with REDIS_MODE=cluster. */
  get url(): string {
    return this.nodes.map((n) => n.url).join(',');
  }

  /** Until every running node says cluster_state:ok (all 16384 slots served). */
  async waitUntilServing(timeoutMs = 20_000, nodes = this.nodes): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const states = await Promise.all(nodes.map((n) => clusterState(n.port)));
      if (states.every((s) => s === 'ok')) return;
      if (Date.now() > deadline)
        throw new Error(`cluster not serving after ${timeoutMs} ms: ${states.join(',')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Until `count` replicas report their link to the master up (first sync done). */
  async waitUntilReplicasSynced(count: number, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const infos = await Promise.all(this.nodes.map((n) => nodeInfo(n.port, 'replication')));
      if (infos.filter((i) => /master_link_status:up/.test(i)).length >= count) return;
      if (Date.now() > deadline) throw new Error(`replicas not synced after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * After `victim` died: until another node serves all of the victim's slots (its replica was
   * promoted) and every other node says cluster_state:ok. Until the failure is detected the
   * survivors still say ok, so "ok" alone would pass before the failover.
   */
  async waitUntilFailedOver(
    victim: TestRedisServer,
    victimSlots: Array<[number, number]>,
    timeoutMs = 30_000,
  ): Promise<TestRedisServer> {
    const deadline = Date.now() + timeoutMs;
    const others = this.nodes.filter((n) => n !== victim);
    for (;;) {
      const owned = await Promise.all(
        others.map((n) => n.slots().catch(() => [] as Array<[number, number]>)),
      );
      const heir = others.find((_, i) =>
        victimSlots.every(([from, to]) => owned[i]!.some(([a, b]) => a <= from && to <= b)),
      );
      if (heir) {
        await this.waitUntilServing(Math.max(1, deadline - Date.now()), others);
        return heir;
      }
      if (Date.now() > deadline)
        throw new Error(`no replica took over the slots after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.close()));
  }

  /**
   * Config for a stack on this cluster, with rate limits above what a test's joins and publishes
   * need (these tests are about where data lives and what survives a node, not about limits).
   */
  stackEnv(): Record<string, string> {
    return { REDIS_URL: this.url, REDIS_MODE: 'cluster', ...GENEROUS_RATE_LIMITS };
  }
}

async function nodeInfo(port: number, section: string): Promise<string> {
  const redis = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await redis.info(section);
  } catch {
    return '';
  } finally {
    redis.disconnect();
  }
}

async function clusterState(port: number): Promise<string> {
  const redis = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const info = await redis.cluster('INFO');
    return /cluster_state:(\w+)/.exec(info)?.[1] ?? 'unknown';
  } catch {
    return 'down';
  } finally {
    redis.disconnect();
  }
}
