// HPKOT special points and suggested paths for the 29 extended Bravais-lattice types.
// Written from Hinuma, Pizzi, Kumagai, Oba, Tanaka, Comput. Mater. Sci. 128, 140 (2017),
// Tables 4–27 (k-vector coefficients) and the band-path figures. Coordinates are fractional in
// the reciprocal basis of the HPKOT primitive cell (no 2π); the k-vector parameters (η, ν, ζ, …)
// are functions of the lattice parameters of the crystallographic conventional cell.
// Labels follow seekpath's spelling (GAMMA, SIGMA_0, …) so paths can be compared one to one.
import type { Vec3 } from '../../math/linalg.js';

export const EXTENDED_BRAVAIS_TYPES = [
  'aP2', 'aP3', 'cF1', 'cF2', 'cI1', 'cP1', 'cP2', 'hP1', 'hP2', 'hR1', 'hR2', 'mC1', 'mC2', 'mC3',
  'mP1', 'oA1', 'oA2', 'oC1', 'oC2', 'oF1', 'oF2', 'oF3', 'oI1', 'oI2', 'oI3', 'oP1', 'tI1', 'tI2',
  'tP1',
] as const;
export type ExtendedBravais = (typeof EXTENDED_BRAVAIS_TYPES)[number];

/** Lattice parameters of the crystallographic conventional cell (Å, cosines of α, β, γ). */
export interface LatticeParams {
  a: number;
  b: number;
  c: number;
  cosAlpha: number;
  cosBeta: number;
  cosGamma: number;
}

export interface HpkotPoints {
  /** named k-vector parameters of this case (empty for cases without free parameters) */
  parameters: Record<string, number>;
  points: Record<string, Vec3>;
}

interface HpkotCase {
  evaluate(lp: LatticeParams): HpkotPoints;
  /** suggested path as chains of labels: '-' joins a segment, '|' starts a new chain */
  path: string;
}

const h = 0.5;
const q = 0.25;

function sq(x: number): number {
  return x * x;
}

function fixed(points: Record<string, Vec3>): (lp: LatticeParams) => HpkotPoints {
  return () => ({ parameters: {}, points: { ...points } });
}

// ---- cubic -------------------------------------------------------------------------------------
const cubicP: Record<string, Vec3> = {
  GAMMA: [0, 0, 0],
  R: [h, h, h],
  M: [h, h, 0],
  X: [0, h, 0],
  X_1: [h, 0, 0],
};
const cubicF: Record<string, Vec3> = {
  GAMMA: [0, 0, 0],
  X: [h, 0, h],
  L: [h, h, h],
  W: [h, q, 0.75],
  W_2: [0.75, q, h],
  K: [0.375, 0.375, 0.75],
  U: [0.625, q, 0.625],
};
const cubicI: Record<string, Vec3> = { GAMMA: [0, 0, 0], H: [h, -h, h], P: [q, q, q], N: [0, 0, h] };

// ---- hexagonal ---------------------------------------------------------------------------------
const third = 1 / 3;
const hexP: Record<string, Vec3> = {
  GAMMA: [0, 0, 0],
  A: [0, 0, h],
  K: [third, third, 0],
  H: [third, third, h],
  H_2: [third, third, -h],
  M: [h, 0, 0],
  L: [h, 0, h],
};

// ---- orthorhombic base-centred (shared by oC with (a, b) and oA with (b, c)) ----------------
// For the "1" case the shorter of the two in-plane axes comes first, ζ = (1 + s²/l²)/4.
function baseCentred1(zeta: number): HpkotPoints {
  return {
    parameters: { zeta },
    points: {
      GAMMA: [0, 0, 0],
      Y: [-h, h, 0],
      T: [-h, h, h],
      Z: [0, 0, h],
      S: [0, h, 0],
      R: [0, h, h],
      SIGMA_0: [zeta, zeta, 0],
      C_0: [-zeta, 1 - zeta, 0],
      A_0: [zeta, zeta, h],
      E_0: [-zeta, 1 - zeta, h],
    },
  };
}
function baseCentred2(zeta: number): HpkotPoints {
  return {
    parameters: { zeta },
    points: {
      GAMMA: [0, 0, 0],
      Y: [h, h, 0],
      T: [h, h, h],
      T_2: [h, h, -h],
      Z: [0, 0, h],
      Z_2: [0, 0, -h],
      S: [0, h, 0],
      R: [0, h, h],
      R_2: [0, h, -h],
      DELTA_0: [-zeta, zeta, 0],
      F_0: [zeta, 1 - zeta, 0],
      B_0: [-zeta, zeta, h],
      B_2: [-zeta, zeta, -h],
      G_0: [zeta, 1 - zeta, h],
      G_2: [zeta, 1 - zeta, -h],
    },
  };
}
const baseCentred1Path = 'GAMMA-Y-C_0|SIGMA_0-GAMMA-Z-A_0|E_0-T-Y|GAMMA-S-R-Z-T';
const baseCentred2Path = 'GAMMA-Y-F_0|DELTA_0-GAMMA-Z-B_0|G_0-T-Y|GAMMA-S-R-Z-T';

// Body-centred orthorhombic points that do not depend on the lattice parameters.
const bodyCentredCommon: Record<string, Vec3> = {
  GAMMA: [0, 0, 0],
  S: [h, 0, 0],
  R: [0, h, 0],
  T: [0, 0, h],
  W: [q, q, q],
};

function sinSqBeta(lp: LatticeParams): number {
  return 1 - sq(lp.cosBeta);
}

const CASES: Record<ExtendedBravais, HpkotCase> = {
  // ---- triclinic: the cell is the reciprocal-Niggli-based one, all-obtuse (2) or all-acute (3)
  aP2: {
    evaluate: fixed({
      GAMMA: [0, 0, 0],
      Z: [0, 0, h],
      Y: [0, h, 0],
      X: [h, 0, 0],
      V: [h, h, 0],
      U: [h, 0, h],
      T: [0, h, h],
      R: [h, h, h],
    }),
    path: 'GAMMA-X|Y-GAMMA-Z|R-GAMMA-T|U-GAMMA-V',
  },
  aP3: {
    evaluate: fixed({
      GAMMA: [0, 0, 0],
      Z: [0, 0, h],
      Y: [0, h, 0],
      Y_2: [0, -h, 0],
      X: [h, 0, 0],
      V_2: [h, -h, 0],
      U_2: [-h, 0, h],
      T_2: [0, -h, h],
      R_2: [-h, -h, h],
    }),
    path: 'GAMMA-X|Y-GAMMA-Z|R_2-GAMMA-T_2|U_2-GAMMA-V_2',
  },
  // ---- cubic: "1" = Laue class m-3 (no Δ-line equivalence of X and X_1 / W and W_2)
  cP1: { evaluate: fixed(cubicP), path: 'GAMMA-X-M-GAMMA-R-X|R-M-X_1' },
  cP2: { evaluate: fixed(cubicP), path: 'GAMMA-X-M-GAMMA-R-X|R-M' },
  cF1: { evaluate: fixed(cubicF), path: 'GAMMA-X-U|K-GAMMA-L-W-X-W_2' },
  cF2: { evaluate: fixed(cubicF), path: 'GAMMA-X-U|K-GAMMA-L-W-X' },
  cI1: { evaluate: fixed(cubicI), path: 'GAMMA-H-N-GAMMA-P-H|P-N' },
  // ---- hexagonal: "1" = point groups without the 2-fold axes along a* that make H ≡ H_2
  hP1: { evaluate: fixed(hexP), path: 'GAMMA-M-K-GAMMA-A-L-H-A|L-M|H-K-H_2' },
  hP2: { evaluate: fixed(hexP), path: 'GAMMA-M-K-GAMMA-A-L-H-A|L-M|H-K' },
  // ---- rhombohedral (hexagonal-axes conventional cell a, c)
  hR1: {
    evaluate(lp) {
      const delta = sq(lp.a) / (4 * sq(lp.c));
      const eta = 5 / 6 - 2 * delta;
      const nu = 1 / 3 + delta;
      return {
        parameters: { delta, eta, nu },
        points: {
          GAMMA: [0, 0, 0],
          T: [h, h, h],
          L: [h, 0, 0],
          L_2: [0, -h, 0],
          L_4: [0, 0, -h],
          F: [h, 0, h],
          F_2: [h, h, 0],
          S_0: [nu, -nu, 0],
          S_2: [1 - nu, 0, nu],
          S_4: [nu, 0, -nu],
          S_6: [1 - nu, nu, 0],
          H_0: [h, eta - 1, 1 - eta],
          H_2: [eta, 1 - eta, h],
          H_4: [eta, h, 1 - eta],
          H_6: [h, 1 - eta, eta - 1],
          M_0: [nu, eta - 1, nu],
          M_2: [1 - nu, 1 - eta, 1 - nu],
          M_4: [eta, nu, nu],
          M_6: [1 - nu, 1 - nu, 1 - eta],
          M_8: [nu, nu, eta - 1],
        },
      };
    },
    path: 'GAMMA-T-H_2|H_0-L-GAMMA-S_0|S_2-F-GAMMA',
  },
  hR2: {
    evaluate(lp) {
      const zeta = 1 / 6 - sq(lp.c) / (9 * sq(lp.a));
      const eta = h - 2 * zeta;
      const nu = h + zeta;
      return {
        parameters: { zeta, eta, nu },
        points: {
          GAMMA: [0, 0, 0],
          T: [h, -h, h],
          P_0: [eta, eta - 1, eta],
          P_2: [eta, eta, eta],
          R_0: [1 - eta, -eta, -eta],
          M: [1 - nu, -nu, 1 - nu],
          M_2: [nu, nu - 1, nu - 1],
          L: [h, 0, 0],
          F: [h, -h, 0],
        },
      };
    },
    path: 'GAMMA-L-T-P_0|P_2-GAMMA-F',
  },
  // ---- tetragonal
  tP1: {
    evaluate: fixed({ GAMMA: [0, 0, 0], Z: [0, 0, h], M: [h, h, 0], A: [h, h, h], R: [0, h, h], X: [0, h, 0] }),
    path: 'GAMMA-X-M-GAMMA-Z-R-A-Z|X-R|M-A',
  },
  tI1: {
    evaluate(lp) {
      const eta = (1 + sq(lp.c) / sq(lp.a)) / 4;
      return {
        parameters: { eta },
        points: {
          GAMMA: [0, 0, 0],
          M: [-h, h, h],
          X: [0, 0, h],
          P: [q, q, q],
          Z: [eta, eta, -eta],
          Z_0: [-eta, 1 - eta, eta],
          N: [0, h, 0],
        },
      };
    },
    path: 'GAMMA-X-M-GAMMA-Z|Z_0-M|X-P-N-GAMMA',
  },
  tI2: {
    evaluate(lp) {
      const eta = (1 + sq(lp.a) / sq(lp.c)) / 4;
      const zeta = sq(lp.a) / (2 * sq(lp.c));
      return {
        parameters: { eta, zeta },
        points: {
          GAMMA: [0, 0, 0],
          M: [h, h, -h],
          X: [0, 0, h],
          P: [q, q, q],
          N: [0, h, 0],
          S_0: [-eta, eta, eta],
          S: [eta, 1 - eta, -eta],
          R: [-zeta, zeta, h],
          G: [h, h, -zeta],
        },
      };
    },
    path: 'GAMMA-X-P-N-GAMMA-M-S|S_0-GAMMA|X-R|G-M',
  },
  // ---- orthorhombic
  oP1: {
    evaluate: fixed({
      GAMMA: [0, 0, 0],
      X: [h, 0, 0],
      Z: [0, 0, h],
      U: [h, 0, h],
      Y: [0, h, 0],
      S: [h, h, 0],
      T: [0, h, h],
      R: [h, h, h],
    }),
    path: 'GAMMA-X-S-Y-GAMMA-Z-U-R-T-Z|X-U|Y-T|S-R',
  },
  oC1: { evaluate: (lp) => baseCentred1((1 + sq(lp.a) / sq(lp.b)) / 4), path: baseCentred1Path },
  oC2: { evaluate: (lp) => baseCentred2((1 + sq(lp.b) / sq(lp.a)) / 4), path: baseCentred2Path },
  oA1: { evaluate: (lp) => baseCentred1((1 + sq(lp.b) / sq(lp.c)) / 4), path: baseCentred1Path },
  oA2: { evaluate: (lp) => baseCentred2((1 + sq(lp.c) / sq(lp.b)) / 4), path: baseCentred2Path },
  oF1: {
    evaluate(lp) {
      const ra = sq(lp.a);
      const zeta = (1 + ra / sq(lp.b) - ra / sq(lp.c)) / 4;
      const eta = (1 + ra / sq(lp.b) + ra / sq(lp.c)) / 4;
      return {
        parameters: { zeta, eta },
        points: {
          GAMMA: [0, 0, 0],
          T: [1, h, h],
          Z: [h, h, 0],
          Y: [h, 0, h],
          SIGMA_0: [0, eta, eta],
          U_0: [1, 1 - eta, 1 - eta],
          A_0: [h, h + zeta, zeta],
          C_0: [h, h - zeta, 1 - zeta],
          L: [h, h, h],
        },
      };
    },
    path: 'GAMMA-Y-T-Z-GAMMA-SIGMA_0|U_0-T|Y-C_0|A_0-Z|GAMMA-L',
  },
  oF2: {
    evaluate(lp) {
      const rc = sq(lp.c);
      const zeta = (1 + rc / sq(lp.a) - rc / sq(lp.b)) / 4;
      const eta = (1 + rc / sq(lp.a) + rc / sq(lp.b)) / 4;
      return {
        parameters: { zeta, eta },
        points: {
          GAMMA: [0, 0, 0],
          T: [0, h, h],
          Z: [h, h, 1],
          Y: [h, 0, h],
          LAMBDA_0: [eta, eta, 0],
          Q_0: [1 - eta, 1 - eta, 1],
          G_0: [h - zeta, 1 - zeta, h],
          H_0: [h + zeta, zeta, h],
          L: [h, h, h],
        },
      };
    },
    path: 'GAMMA-T-Z-Y-GAMMA-LAMBDA_0|Q_0-Z|T-G_0|H_0-Y|GAMMA-L',
  },
  oF3: {
    evaluate(lp) {
      const [a2, b2, c2] = [sq(lp.a), sq(lp.b), sq(lp.c)];
      const zeta = (1 + a2 / b2 - a2 / c2) / 4;
      const delta = (1 + b2 / a2 - b2 / c2) / 4;
      const phi = (1 + c2 / b2 - c2 / a2) / 4;
      return {
        parameters: { zeta, delta, phi },
        points: {
          GAMMA: [0, 0, 0],
          T: [0, h, h],
          Z: [h, h, 0],
          Y: [h, 0, h],
          A_0: [h, h + zeta, zeta],
          C_0: [h, h - zeta, 1 - zeta],
          B_0: [h + delta, h, delta],
          D_0: [h - delta, h, 1 - delta],
          G_0: [phi, h + phi, h],
          H_0: [1 - phi, h - phi, h],
          L: [h, h, h],
        },
      };
    },
    path: 'GAMMA-Y-C_0|A_0-Z-B_0|D_0-T-G_0|H_0-Y|T-GAMMA-Z|GAMMA-L',
  },
  // oI1/oI2/oI3: the longest conventional axis is c / a / b.
  oI1: {
    evaluate(lp) {
      const [a2, b2, c2] = [sq(lp.a), sq(lp.b), sq(lp.c)];
      const zeta = (1 + a2 / c2) / 4;
      const eta = (1 + b2 / c2) / 4;
      const delta = (b2 - a2) / (4 * c2);
      const mu = (a2 + b2) / (4 * c2);
      return {
        parameters: { zeta, eta, delta, mu },
        points: {
          ...bodyCentredCommon,
          X: [h, h, -h],
          SIGMA_0: [-zeta, zeta, zeta],
          F_2: [zeta, 1 - zeta, -zeta],
          Y_0: [eta, -eta, eta],
          U_0: [1 - eta, eta, -eta],
          L_0: [-mu, mu, h - delta],
          M_0: [mu, -mu, h + delta],
          J_0: [h - delta, h + delta, -mu],
        },
      };
    },
    path: 'GAMMA-X-F_2|SIGMA_0-GAMMA-Y_0|U_0-X|GAMMA-R-W-S-GAMMA-T-W',
  },
  oI2: {
    evaluate(lp) {
      const [a2, b2, c2] = [sq(lp.a), sq(lp.b), sq(lp.c)];
      const zeta = (1 + b2 / a2) / 4;
      const eta = (1 + c2 / a2) / 4;
      const delta = (c2 - b2) / (4 * a2);
      const mu = (b2 + c2) / (4 * a2);
      return {
        parameters: { zeta, eta, delta, mu },
        points: {
          ...bodyCentredCommon,
          X: [-h, h, h],
          Y_0: [zeta, -zeta, zeta],
          U_2: [-zeta, zeta, 1 - zeta],
          LAMBDA_0: [eta, eta, -eta],
          G_2: [-eta, 1 - eta, eta],
          K: [h - delta, -mu, mu],
          K_2: [h + delta, mu, -mu],
          K_4: [-mu, h - delta, h + delta],
        },
      };
    },
    path: 'GAMMA-X-U_2|Y_0-GAMMA-LAMBDA_0|G_2-X|GAMMA-R-W-S-GAMMA-T-W',
  },
  oI3: {
    evaluate(lp) {
      const [a2, b2, c2] = [sq(lp.a), sq(lp.b), sq(lp.c)];
      const zeta = (1 + c2 / b2) / 4;
      const eta = (1 + a2 / b2) / 4;
      const delta = (a2 - c2) / (4 * b2);
      const mu = (c2 + a2) / (4 * b2);
      return {
        parameters: { zeta, eta, delta, mu },
        points: {
          ...bodyCentredCommon,
          X: [h, -h, h],
          SIGMA_0: [-eta, eta, eta],
          F_0: [eta, -eta, 1 - eta],
          LAMBDA_0: [zeta, zeta, -zeta],
          G_0: [1 - zeta, -zeta, zeta],
          V_0: [mu, h - delta, -mu],
          H_0: [-mu, h + delta, mu],
          H_2: [h + delta, -mu, h - delta],
        },
      };
    },
    path: 'GAMMA-X-F_0|SIGMA_0-GAMMA-LAMBDA_0|G_0-X|GAMMA-R-W-S-GAMMA-T-W',
  },
  // ---- monoclinic (unique axis b, β the angle between a and c)
  mP1: {
    evaluate(lp) {
      const eta = (1 + (lp.a / lp.c) * lp.cosBeta) / (2 * sinSqBeta(lp));
      const nu = h + (eta * lp.c * lp.cosBeta) / lp.a;
      return {
        parameters: { eta, nu },
        points: {
          GAMMA: [0, 0, 0],
          Z: [0, h, 0],
          B: [0, 0, h],
          B_2: [0, 0, -h],
          Y: [h, 0, 0],
          Y_2: [-h, 0, 0],
          C: [h, h, 0],
          C_2: [-h, h, 0],
          D: [0, h, h],
          D_2: [0, h, -h],
          A: [-h, 0, h],
          E: [-h, h, h],
          H: [-eta, 0, 1 - nu],
          H_2: [eta - 1, 0, nu],
          H_4: [-eta, 0, -nu],
          M: [-eta, h, 1 - nu],
          M_2: [eta - 1, h, nu],
          M_4: [-eta, h, -nu],
        },
      };
    },
    path: 'GAMMA-Z-D-B-GAMMA-A-E-Z-C_2-Y_2-GAMMA',
  },
  mC1: {
    evaluate(lp) {
      const { a, b, c, cosBeta } = lp;
      const s2 = sinSqBeta(lp);
      const zeta = (2 + (a / c) * cosBeta) / (4 * s2);
      const eta = h - (2 * zeta * c * cosBeta) / a;
      const psi = 0.75 - sq(b) / (4 * sq(a) * s2);
      const phi = psi - ((0.75 - psi) * a * cosBeta) / c;
      return {
        parameters: { zeta, eta, psi, phi },
        points: {
          GAMMA: [0, 0, 0],
          Y_2: [-h, h, 0],
          Y_4: [h, -h, 0],
          A: [0, 0, h],
          M_2: [-h, h, h],
          V: [h, 0, 0],
          V_2: [0, h, 0],
          L_2: [0, h, h],
          C: [1 - psi, 1 - psi, 0],
          C_2: [psi - 1, psi, 0],
          C_4: [psi, psi - 1, 0],
          D: [phi - 1, phi, h],
          D_2: [1 - phi, 1 - phi, h],
          E: [zeta - 1, 1 - zeta, 1 - eta],
          E_2: [-zeta, zeta, eta],
          E_4: [zeta, -zeta, 1 - eta],
        },
      };
    },
    path: 'GAMMA-C|C_2-Y_2-GAMMA-M_2-D|D_2-A-GAMMA|L_2-GAMMA-V_2',
  },
  mC2: {
    evaluate(lp) {
      const { a, b, c, cosBeta } = lp;
      const s2 = sinSqBeta(lp);
      const zeta = (sq(a) / sq(b) + (1 + (a / c) * cosBeta) / s2) / 4;
      const mu = (1 + sq(a) / sq(b)) / 4;
      const delta = (-a * c * cosBeta) / (2 * sq(b));
      const eta = h - (2 * zeta * c * cosBeta) / a;
      const phi = 1 + zeta - 2 * mu;
      const psi = eta - 2 * delta;
      return {
        parameters: { zeta, mu, delta, eta, phi, psi },
        points: {
          GAMMA: [0, 0, 0],
          Y: [h, h, 0],
          A: [0, 0, h],
          M: [h, h, h],
          V_2: [0, h, 0],
          L_2: [0, h, h],
          F: [phi - 1, 1 - phi, 1 - psi],
          F_2: [1 - phi, phi, psi],
          F_4: [phi, 1 - phi, 1 - psi],
          H: [-zeta, zeta, eta],
          H_2: [zeta, 1 - zeta, 1 - eta],
          H_4: [zeta, -zeta, 1 - eta],
          G: [-mu, mu, delta],
          G_2: [mu, 1 - mu, -delta],
          G_4: [mu, -mu, -delta],
          G_6: [1 - mu, mu, delta],
        },
      };
    },
    path: 'GAMMA-Y-M-A-GAMMA|L_2-GAMMA-V_2',
  },
  mC3: {
    evaluate(lp) {
      const { a, b, c, cosBeta } = lp;
      const s2 = sinSqBeta(lp);
      const zeta = (sq(a) / sq(b) + (1 + (a / c) * cosBeta) / s2) / 4;
      const rho = 1 - (zeta * sq(b)) / sq(a);
      const eta = h - (2 * zeta * c * cosBeta) / a;
      const mu = eta / 2 + sq(a) / (4 * sq(b)) + (a * c * cosBeta) / (2 * sq(b));
      const nu = 2 * mu - zeta;
      const omega = (c / (2 * a * cosBeta)) * (1 - 4 * nu + (sq(a) * s2) / sq(b));
      const delta = -q + omega / 2 - (zeta * c * cosBeta) / a;
      return {
        parameters: { zeta, rho, eta, mu, nu, omega, delta },
        points: {
          GAMMA: [0, 0, 0],
          Y: [h, h, 0],
          A: [0, 0, h],
          M_2: [-h, h, h],
          V: [h, 0, 0],
          V_2: [0, h, 0],
          L_2: [0, h, h],
          I: [rho - 1, rho, h],
          I_2: [1 - rho, 1 - rho, h],
          K: [-nu, nu, omega],
          K_2: [nu - 1, 1 - nu, 1 - omega],
          K_4: [1 - nu, nu, omega],
          H: [-zeta, zeta, eta],
          H_2: [zeta, 1 - zeta, 1 - eta],
          H_4: [zeta, -zeta, 1 - eta],
          N: [-mu, mu, delta],
          N_2: [mu, 1 - mu, -delta],
          N_4: [mu, -mu, -delta],
          N_6: [1 - mu, mu, delta],
        },
      };
    },
    path: 'GAMMA-A-I_2|I-M_2-GAMMA-Y|L_2-GAMMA-V_2',
  },
};

/** Expand a chain notation 'A-B-C|D-E' into segments [A,B],[B,C],[D,E]. */
export function expandPath(chains: string): [string, string][] {
  const out: [string, string][] = [];
  for (const chain of chains.split('|')) {
    const labels = chain.split('-');
    for (let i = 0; i + 1 < labels.length; i++) out.push([labels[i]!, labels[i + 1]!]);
  }
  return out;
}

export interface HpkotTableEntry extends HpkotPoints {
  path: [string, string][];
}

/** Points (HPKOT primitive reciprocal basis), their parameters and the suggested path. */
export function hpkotTable(type: ExtendedBravais, lp: LatticeParams): HpkotTableEntry {
  const c = CASES[type];
  const { parameters, points } = c.evaluate(lp);
  return { parameters, points, path: expandPath(c.path) };
}
