import { expect } from "chai";
import { type LedgerInput, flexLedger, marketLedger } from "../../../oracle/src/domain/ledger.js";

// One market holding every kind of lock at once; the token balance is the hand-computed sum.
const COLLATERAL = 100_000n;
const base: LedgerInput = {
  marketTokenBalance: 0n,
  freeBalances: [1_000_000n, 2_500_000n],
  // A bid of 3001 Wh at ≤ 120000/kWh locks 120000 × 3001 / 1000 = 360120 plus ⌈100000 × 3001 /
  // 1000⌉ = 300100 of imbalance collateral; an offer of 1500 Wh locks 100000 × 1500 / 1000 = 150000.
  openOrders: [
    { side: 0, quantityWh: 3001n, limitPricePerKwh: 120_000n },
    { side: 1, quantityWh: 1500n, limitPricePerKwh: 90_000n },
  ],
  pendingFillsWh: [5000n, 1n],
  withheldPayouts: [450_000n],
  intervalSurpluses: [41n, 0n],
  operatorFunds: 1_000_000n,
  offerCollateralPerKwh: COLLATERAL,
};
const BIDS = 360_120n + 300_100n;
const OFFERS = 150_000n;
const FILL_COLLATERAL = 500_000n + 100n; // ⌈100000 × 1 / 1000⌉ = 100
const WITHHELD = 450_000n;
const TOTAL = 3_500_000n + BIDS + OFFERS + FILL_COLLATERAL + WITHHELD + 41n + 1_000_000n;

describe("marketLedger", () => {
  describe("when the market holds every kind of lock", () => {
    it("sums each kind with the contract's rounding and matches the token balance exactly", () => {
      const l = marketLedger({ ...base, marketTokenBalance: TOTAL });
      expect(l.bids, "bids").to.equal(BIDS);
      expect(l.offerCollateral, "open offers' collateral").to.equal(OFFERS);
      expect(l.fillCollateral, "collateral of settled fills").to.equal(FILL_COLLATERAL);
      expect(l.withheldPayouts, "withheld seller payouts").to.equal(WITHHELD);
      expect(l.unsettledPayouts, "receipts − payouts").to.equal(41n);
      expect(l.owed).to.equal(TOTAL);
      expect(l.exact).to.equal(true);
    });
  });

  describe("when one lock kind is missing from the input", () => {
    const without: Record<string, Partial<LedgerInput>> = {
      "open bids": { openOrders: base.openOrders.filter((o) => o.side !== 0) },
      "open offers": { openOrders: base.openOrders.filter((o) => o.side !== 1) },
      "settled fills' collateral": { pendingFillsWh: [] },
      "withheld seller payouts": { withheldPayouts: [] },
      "unsettled payouts": { intervalSurpluses: [] },
      "operator funds": { operatorFunds: 0n },
      "free balances": { freeBalances: [] },
    };
    for (const [kind, change] of Object.entries(without))
      it(`reports the market as not exact without ${kind}`, () => {
        const l = marketLedger({ ...base, ...change, marketTokenBalance: TOTAL });
        expect(l.exact, kind).to.equal(false);
        expect(l.owed < TOTAL, `${kind}: owed ${l.owed} < held ${TOTAL}`).to.equal(true);
      });
  });

  describe("when the market holds one unit more than it owes", () => {
    it("is not exact", () => {
      expect(marketLedger({ ...base, marketTokenBalance: TOTAL + 1n }).exact).to.equal(false);
    });
  });
});

describe("flexLedger", () => {
  const input = {
    tokenBalance: 0n,
    balances: [190_000n, 0n],
    openBudgets: [
      { chargeBudget: 1_000_000n, spent: 120_000n },
      { chargeBudget: 500_000n, spent: 0n },
    ],
  };
  describe("when the flexibility market holds its owners' balances and every unspent budget", () => {
    it("is exact", () => {
      const l = flexLedger({ ...input, tokenBalance: 190_000n + 880_000n + 500_000n });
      expect(l.balances).to.equal(190_000n);
      expect(l.unspentBudgets).to.equal(1_380_000n);
      expect(l.exact).to.equal(true);
    });
  });
  describe("when it holds one unit more or less, or a budget is left out", () => {
    it("is not exact", () => {
      expect(flexLedger({ ...input, tokenBalance: 1_570_001n }).exact).to.equal(false);
      expect(flexLedger({ ...input, tokenBalance: 1_569_999n }).exact).to.equal(false);
      expect(
        flexLedger({ ...input, tokenBalance: 1_570_000n, openBudgets: input.openBudgets.slice(1) }).exact,
      ).to.equal(false);
    });
  });
  it("rejects an order that spent more than its budget, naming the field", () => {
    expect(() => flexLedger({ ...input, openBudgets: [{ chargeBudget: 1n, spent: 2n }] })).to.throw(
      RangeError,
      /openBudgets/,
    );
  });
});
