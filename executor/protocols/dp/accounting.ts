/**
 * Privacy accounting in ρ-zero-concentrated DP (Bun & Steinke 2016, "Concentrated Differential
 * Privacy: Simplifications, Extensions, and Lower Bounds"), the unit of the budget ledger.
 *
 * - Composition: ρ adds up; so does the δ of "δ-approximate ρ-zCDP" mechanisms (partition
 *   selection by a noisy threshold is one: exact zCDP except on an event of probability ≤ δ).
 * - ε-DP ⇒ (ε²/2)-zCDP (BS16 Prop. 1.4); the discrete Gaussian with L2 sensitivity Δ and
 *   variance parameter σ² is (Δ²/2σ²)-zCDP (CKS20 Thm. 4).
 * - ρ-zCDP ⇒ (ρ + 2√(ρ·ln(1/δ)), δ)-DP for every δ > 0 (BS16 Prop. 1.3); the inverse gives the
 *   largest ρ that still guarantees a target (ε, δ).
 * - A sum of n independent discrete Gaussians N_Z(0, σ²) is within Rényi divergence
 *   τ = 10·Σ_{k=1}^{n−1} exp(−2π²σ²·k/(k+1)) of N_Z(0, nσ²), and the distributed mechanism is
 *   ½(Δ₂/(√n·σ) + τ·√d)²-zCDP (Kairouz, Liu, Steinke 2021, "The Distributed Discrete Gaussian
 *   Mechanism…", Thm. 2, third bound, d = dimension).
 *
 * Pure functions over numbers; reveals nothing; negligible cost.
 */

/** (ε, δ)-DP implied by ρ-zCDP (BS16 Prop. 1.3). */
export function epsilonFromRho(rho: number, delta: number): number {
  if (rho <= 0) return 0;
  return rho + 2 * Math.sqrt(rho * Math.log(1 / delta));
}

/** The largest ρ whose BS16 conversion still gives (ε, δ)-DP: (√(ln(1/δ) + ε) − √ln(1/δ))². */
export function rhoFromEpsilonDelta(epsilon: number, delta: number): number {
  if (!(delta > 0 && delta < 1)) throw new RangeError('δ must be in (0, 1)');
  const l = Math.log(1 / delta);
  const root = Math.sqrt(l + epsilon) - Math.sqrt(l);
  return root * root;
}

/** ε-DP as ρ-zCDP. */
export function rhoFromPureEpsilon(epsilon: number): number {
  return (epsilon * epsilon) / 2;
}

/** KLS21's τ for a sum of n discrete Gaussians each with variance parameter σ². */
export function klsTau(sigma2: number, n: number): number {
  let tau = 0;
  for (let k = 1; k < n; k++) tau += Math.exp((-2 * Math.PI * Math.PI * sigma2 * k) / (k + 1));
  return 10 * tau;
}

/**
 * A per-period budget (ε_B, δ_B) from node.yaml as a ledger allowance: half of δ_B pays for the
 * final zCDP → (ε, δ) conversion, the other half for the δ of approximate mechanisms. Spending at
 * most `rho` and `delta` in a period then guarantees (ε_B, δ_B)-DP for that period.
 */
export interface LedgerAllowance {
  rho: number;
  delta: number;
}

export function allowanceFromBudget(epsilon: number, delta: number): LedgerAllowance {
  return { rho: rhoFromEpsilonDelta(epsilon, delta / 2), delta: delta / 2 };
}

/** The ε an amount of ρ corresponds to under a budget's conversion δ (δ_B/2), for display. */
export function epsilonEquivalent(rho: number, budgetDelta: number): number {
  return epsilonFromRho(rho, budgetDelta / 2);
}
