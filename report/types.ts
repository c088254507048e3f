// The data a campaign report page draws: built from the store by report/data.ts, embedded in the
// page as JSON and read by the browser code (report/client/main.ts, which imports these types
// only). Everything here is plain JSON: no Dates, no typed arrays.

/** One label per preset, one character each, in `ReportData.presets` order. */
export const LABEL_CODE = { stable: 's', unstable: 'u', relaxation_failed: 'r', unclassified: 'x' } as const;
/** no label under that preset (no result) */
export const NO_LABEL = '-';

/** Item status, one character each. */
export const STATUS_CODE = { done: 'd', failed: 'f', rejected: 'j', running: 'r', pending: 'p', cancelled: 'c' } as const;

export interface PresetInfo {
  name: string;
  ruleVersion: string;
  /** the histogram's threshold line: below it a non-exempt mode makes the structure unstable, THz */
  thresholdTHz: number;
  /** which q-points and modes the rule reads (shown under the histogram) */
  note: string;
}

/** A binomial rate with its Wilson 95 % interval. */
export interface Rate {
  k: number;
  n: number;
  p: number | null;
  lo: number;
  hi: number;
}

export interface Counts {
  total: number;
  pending: number;
  running: number;
  done: number;
  failed: number;
  rejected: number;
  cancelled: number;
  /** items finished in the last `windowSeconds` */
  recentDone: number;
  windowSeconds: number;
}

export interface BreakdownCategory {
  label: string;
  /** per preset (ReportData.presets order) */
  rates: Rate[];
}

export interface Breakdown {
  key: 'crystal-system' | 'spacegroup' | 'natoms' | 'source';
  title: string;
  note: string;
  categories: BreakdownCategory[];
}

export interface Histogram {
  preset: string;
  thresholdTHz: number;
  /** bin edges, THz (uniform in asinh(ν / asinhScale)) */
  edges: number[];
  asinhScale: number;
  stable: number[];
  unstable: number[];
  /** structures with a value (the others have no spectrum under this preset) */
  n: number;
}

export interface Convergence {
  /** structures classified so far, in completion order */
  n: number[];
  series: { preset: string; p: number[]; lo: number[]; hi: number[] }[];
}

export interface AgreementMatrix {
  title: string;
  rowLabel: string;
  colLabel: string;
  labels: string[];
  /** counts[i][j]: structures with row label i and column label j */
  counts: number[][];
}

export interface PresetAgreement {
  presets: string[];
  /** fraction of structures with the same label under both presets (null: none classified under both) */
  fraction: (number | null)[][];
  n: number[][];
}

export interface ProvenanceDigest {
  models: { name: string; sha256: string; precision: string; relaxPrecision: string | null; n: number }[];
  codeShas: { sha: string; n: number }[];
  configShas: { sha: string; n: number }[];
  stepsUsed: number;
  computed: number;
  served: number;
  recomputedSteps: number;
}

/** The structures table, one array per column, rows in completion order (then unfinished by id). */
export interface Rows {
  id: number[];
  name: string[];
  formula: string[];
  natoms: (number | null)[];
  /** space group of the relaxed structure (else of the input) */
  sg: (number | null)[];
  status: string[];
  /** one LABEL_CODE per preset */
  labels: string[];
  /** raw minimum frequency under the campaign preset, THz */
  minNu: (number | null)[];
  /** index into `folders` */
  folder: number[];
  folders: string[];
  /** index into `errorClasses`, −1 for none */
  error: number[];
  errorClasses: string[];
}

export interface LatticeParams {
  a: number;
  b: number;
  c: number;
  alpha: number;
  beta: number;
  gamma: number;
  volume: number;
}

/** A band structure reduced for drawing: one x array, one frequency array per branch. */
export interface CompactBand {
  /** path coordinate, 1/Å (no 2π); null entries never occur, gaps are marked in `nu` */
  x: number[];
  /** per branch, frequencies in units of `scale` THz; null where the path jumps (e.g. U|K) */
  nu: (number | null)[][];
  scale: number;
  ticks: { x: number; label: string }[];
  /** the lowest frequency on the stored path (before thinning), where it is */
  soft: { x: number; nuTHz: number; q: number[]; branch: number; label: string } | null;
  /** points on the stored path, points drawn */
  pointsStored: number;
  pointsDrawn: number;
  note?: string;
}

export interface CompactDos {
  /** frequency of the first value, step, THz */
  nu0: number;
  dnu: number;
  /** states / THz / primitive cell (integrates to 3 × atoms) */
  values: number[];
  sigmaTHz: number;
  source: 'mesh' | 'band';
  qpoints: number;
}

export interface PresetVerdict {
  preset: string;
  label: string;
  /** raw minimum over the rule's q-points (Γ acoustic included) */
  minTHz: number | null;
  /** minimum over the modes the rule does not exempt */
  minNonExemptTHz: number | null;
  where: string;
  reason: string;
  imaginaryModes: number | null;
}

export interface StepProvenance {
  generation: number;
  step: string;
  key: string;
  served: boolean;
  cacheVersion: string;
  model: string | null;
  modelSha256: string | null;
  codeSha: string;
  host: string;
  durationMs: number;
  modelMs: number;
  payloadBytes: number;
  at: string;
}

export interface AttemptRecord {
  generation: number;
  step: string;
  attempt: number;
  outcome: string;
  errorClass: string | null;
  errorMessage: string | null;
  host: string;
  durationMs: number | null;
  at: string;
}

export interface ItemDetail {
  itemId: number;
  name: string;
  sourcePath: string;
  sourceIndex: number;
  status: string;
  errorClass: string | null;
  errorMessage: string | null;
  generation: number;
  attempts: number;
  wallMs: number | null;
  host: string | null;
  structure: {
    formula: string;
    natoms: number;
    hash: string;
    geometrySha256: string;
    lattice: LatticeParams | null;
    relaxedLattice: LatticeParams | null;
  } | null;
  relax: {
    status: string;
    steps: number;
    energyEv: number | null;
    energyPerAtomEv: number | null;
    maxForce: number | null;
    spacegroupBefore: number | null;
    spacegroupAfter: number | null;
    trajectoryPrecision: string;
  } | null;
  result: {
    label: string;
    labels: Record<string, string>;
    minFreqThz: number | null;
    minFreqQ: number[] | null;
    minFreqWhere: string | null;
    maxFreqThz: number | null;
    supercell: number[] | null;
    nDisplacements: number | null;
    model: string;
    modelSha256: string;
    modelPrecision: string;
    codeSha: string;
    configSha256: string;
  } | null;
  verdicts: PresetVerdict[];
  band: CompactBand | null;
  dos: CompactDos | null;
  /** atoms in the primitive cell the phonons were computed for */
  primitiveAtoms: number | null;
  steps: StepProvenance[];
  attemptLog: AttemptRecord[];
  attemptsOmitted: number;
}

export interface ReportData {
  schema: 1;
  generatedAt: string;
  /** served by `softmode report --serve` (the page polls for the live status) */
  live: boolean;
  campaign: {
    id: number;
    name: string;
    status: string;
    preset: string;
    model: string;
    modelSha256: string;
    modelPrecision: string;
    codeSha: string;
    configSha256: string;
    createdAt: string;
    partitions: number;
    windowSize: number;
  };
  /** the other campaigns of the store (serve mode links them) */
  campaigns: { id: number; name: string; model: string; status: string }[];
  presets: PresetInfo[];
  /** index of the campaign's preset in `presets` */
  presetIndex: number;
  counts: Counts;
  /** the progress line `softmode run` prints */
  statusLine: string | null;
  rates: (Rate & { preset: string })[];
  provenance: ProvenanceDigest;
  errors: { status: string; errorClass: string; n: number }[];
  stepTimings: { step: string; n: number; durationMs: number; modelMs: number }[];
  convergence: Convergence;
  breakdowns: Breakdown[];
  /** the periodic table: symbol and [row, column] of Z = 1…118, and the rates of the elements present */
  periodic: { symbols: string[]; cells: [number, number][]; elements: { z: number; rates: Rate[] }[] };
  histograms: Histogram[];
  presetAgreement: PresetAgreement;
  modelAgreement: AgreementMatrix[];
  spacegroups: Record<string, { symbol: string; system: string }>;
  rows: Rows;
  /** band structure, DOS and provenance of these items (by item id) */
  details: Record<string, ItemDetail>;
  detailsNote: string;
  /** how long building this data took, ms, and its phases */
  buildMs: number;
  buildPhasesMs: Record<string, number>;
}

/** The live status `--serve` answers on /api/status. */
export interface LiveStatus {
  campaign: string;
  status: string;
  counts: Counts;
  statusLine: string;
  rate: Rate & { preset: string };
  /** results stored so far (the page reloads its data when this changes) */
  results: number;
  at: string;
}
