// Numbered schema migrations. Each runs once, in order, inside a transaction, recorded in
// schema_migrations. Never edit an applied migration: add the next number.
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
create table campaigns (
  id            bigserial primary key,
  name          text not null unique,
  status        text not null default 'running',      -- running | paused | cancelled | done
  model_name    text not null,
  model_sha256  text not null,
  model_precision text not null,
  model_manifest jsonb,
  preset        text not null,
  code_sha      text not null,
  config        jsonb not null,                       -- merged config/ snapshot + engine policy
  config_sha256 text not null,
  window_size   integer not null,
  partitions    integer not null,
  created_at    timestamptz not null default now(),
  updated_at    timestamptz not null default now()
);

create table source_files (
  sha256     text primary key,
  path       text not null,
  text       text not null,
  bytes      integer not null,
  created_at timestamptz not null default now()
);

create table structures (
  id            bigserial primary key,
  geometry_sha256 text not null unique,               -- sha256 of the exact stored geometry (the step input ref)
  hash          text not null,                        -- canonical content hash (identity: same crystal, any cell)
  hash_kind     text not null,                        -- which hash function / version produced it
  formula       text not null,
  natoms        integer not null,
  source_path   text not null,                        -- where it was first seen
  source_index  integer not null,
  source_name   text,
  source_sha256 text references source_files(sha256),
  structure     jsonb not null,                       -- lattice rows, frac, numbers
  created_at    timestamptz not null default now()
);
create index structures_formula on structures (formula);
create index structures_hash on structures (hash);

create table campaign_items (
  id            bigserial primary key,
  campaign_id   bigint not null references campaigns(id),
  structure_id  bigint references structures(id),     -- null when the file could not be read
  source_path   text not null,
  source_index  integer not null,
  source_name   text,
  partition     integer not null,
  status        text not null default 'pending',      -- pending | running | done | failed | rejected | cancelled
  generation    integer not null default 0,           -- bumped by retry-failed; part of the workflow id
  attempts      integer not null default 0,           -- activity attempts over all steps and generations
  workflow_id   text,
  run_id        text,
  error_class   text,
  error_message text,
  host          text,
  started_at    timestamptz,
  finished_at   timestamptz,
  wall_ms       double precision,
  unique (campaign_id, source_path, source_index)
);
create index campaign_items_status on campaign_items (campaign_id, status);
create index campaign_items_pending on campaign_items (campaign_id, partition, id) where status in ('pending', 'running');
create index campaign_items_structure on campaign_items (structure_id);
create index campaign_items_error on campaign_items (campaign_id, error_class) where error_class is not null;

create table step_results (
  key           text primary key,                     -- sha256(input refs + params + model sha256 + cache version)
  step          text not null,
  cache_version text not null,
  input_refs    text[] not null,
  params        jsonb not null,
  model_name    text,
  model_sha256  text,
  code_sha      text not null,
  host          text not null,
  duration_ms   double precision not null,
  model_ms      double precision not null default 0,  -- time inside potential evaluation
  payload       bytea not null,                       -- gzip(JSON)
  payload_bytes integer not null,                     -- uncompressed size
  computations  integer not null default 1,           -- > 1: computed again after it was complete (must not happen)
  overlap_count integer not null default 0,           -- computed concurrently by two attempts (e.g. a retry racing a stalled one)
  hits          integer not null default 0,           -- times served from the store instead
  created_at    timestamptz not null default now()
);
create index step_results_step on step_results (step);

create table step_uses (
  campaign_item_id bigint not null references campaign_items(id),
  generation    integer not null,
  key           text not null references step_results(key),
  step          text not null,
  served_from_store boolean not null,
  at            timestamptz not null default now(),
  primary key (campaign_item_id, generation, key)
);
create index step_uses_key on step_uses (key);

create table attempts (
  id            bigserial primary key,
  campaign_item_id bigint not null references campaign_items(id),
  generation    integer not null,
  step          text not null,
  activity_attempt integer not null,
  outcome       text not null,                        -- computed | served | resumed | fault | rejected
  error_class   text,
  error_message text,
  host          text not null,
  duration_ms   double precision,
  at            timestamptz not null default now()
);
create index attempts_item on attempts (campaign_item_id);

create table results (
  campaign_item_id bigint primary key references campaign_items(id),
  campaign_id   bigint not null references campaigns(id),
  structure_id  bigint not null references structures(id),
  generation    integer not null,
  preset        text not null,
  label         text not null,                        -- stable | unstable | relaxation_failed | unclassified
  labels        jsonb not null,                       -- label under every preset
  min_freq_thz  double precision,
  min_freq_q    double precision[],
  min_freq_band integer,
  min_freq_where text,
  n_imaginary   integer,
  max_freq_thz  double precision,
  spacegroup_initial integer,
  spacegroup_relaxed integer,
  energy_initial_ev double precision,
  energy_relaxed_ev double precision,
  energy_per_atom_ev double precision,
  relax_status  text,
  relax_steps   integer,
  supercell     integer[],
  n_displacements integer,
  model_name    text not null,
  model_sha256  text not null,
  model_precision text not null,
  code_sha      text not null,
  config_sha256 text not null,
  relax_key     text,
  phonon_key    text,
  classify_key  text,
  host          text,
  created_at    timestamptz not null default now()
);
create index results_campaign_label on results (campaign_id, label);
create index results_structure on results (structure_id);
create index results_model on results (model_sha256);
`,
  },
  {
    version: 2,
    name: 'relaxation trajectory precision per result',
    // model_precision is the precision of the deciding model (acceptance test, phonon forces);
    // a protocol may run the FIRE trajectory in another (config/relax.ts trajectoryPrecision).
    // Null for results recorded before this column existed (their trajectory was model_precision).
    sql: `alter table results add column relax_precision text;`,
  },
  {
    version: 3,
    name: 'early stop: why a campaign stopped scheduling, and a campaign event log',
    // stop_reason: set when a run with --until-ci stops scheduling (the interval reached); cleared
    // when a later run goes on past it; every stop and resume is also kept in campaign_events.
    sql: `alter table campaigns add column stop_reason jsonb;
create table campaign_events (
  id            bigserial primary key,
  campaign_id   bigint not null references campaigns(id),
  at            timestamptz not null default now(),
  kind          text not null,
  detail        jsonb
);
create index campaign_events_campaign on campaign_events (campaign_id, id);`,
  },
  {
    version: 4,
    name: 'incremental ingest: the files a campaign has read, by size and modification time',
    // a restart skips every file whose size and mtime are unchanged since it was read (its items
    // are in campaign_items already); rows are written only after the file's items are committed
    sql: `create table ingested_files (
  campaign_id   bigint not null references campaigns(id),
  path          text not null,
  size          bigint not null,
  mtime_ms      double precision not null,
  sha256        text,
  structures    integer not null,
  rejected      integer not null,
  at            timestamptz not null default now(),
  primary key (campaign_id, path)
);`,
  },
  {
    version: 5,
    name: 'multi-model campaigns: one item per (input structure, model)',
    // model_index names the item's model in the campaign's frozen settings (settings.models;
    // 0 = settings.potential for a one-model campaign, every existing item). The same input is
    // one item per model, so the idempotence key of ingest gains the model.
    sql: `alter table campaign_items add column model_index smallint not null default 0;
alter table campaign_items drop constraint if exists campaign_items_campaign_id_source_path_source_index_key;
alter table campaign_items add constraint campaign_items_source_model_key unique (campaign_id, source_path, source_index, model_index);`,
  },
];
