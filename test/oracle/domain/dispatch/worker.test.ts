import { expect } from "chai";
import { readFileSync } from "node:fs";
import {
  canonicalHash,
  DispatchInputError,
  DispatchModelError,
  solveDispatch,
  solveInWorker,
  warmUpSolver,
} from "../../../../oracle/src/domain/dispatch/index.js";
import { battery, order } from "./fixtures.js";

describe("solveInWorker", function () {
  this.timeout(60_000);

  describe("when the instance is valid", () => {
    it("returns the same canonical schedule as an in-thread solve", async () => {
      const input: unknown = JSON.parse(
        readFileSync(new URL("../../../../examples/dispatch-grid.json", import.meta.url), "utf8"),
      );
      const [inWorker, inThread] = await Promise.all([solveInWorker(input), solveDispatch(input)]);
      expect(canonicalHash(inWorker.schedule)).to.equal(canonicalHash(inThread.schedule));
      expect(inWorker.stats.method).to.equal("lp");
    });

    it("lets the caller's event loop run while the solve is pending", async () => {
      // A callback queued with setImmediate runs at the end of this turn of the event loop. A solve
      // run in this thread (even inside an async function) resolves before it; a solve in the
      // worker thread can only answer by a message, which needs at least the LP's solve time in
      // the other thread, so the callback runs first. No clock is read.
      // The example's 4 intervals repeated 100 times (400 intervals, 3,600 orders): a solve of a few
      // milliseconds could answer before this thread reached setImmediate's phase when the thread
      // was busy (it failed that way in a fresh-check); this one keeps the worker far longer.
      const example = JSON.parse(
        readFileSync(new URL("../../../../examples/dispatch-grid.json", import.meta.url), "utf8"),
      ) as {
        horizon: { firstInterval: number; intervals: number };
        orders: { id: string; interval: number }[];
      };
      const copies = 100;
      const span = example.horizon.intervals;
      const input = {
        ...example,
        horizon: { ...example.horizon, intervals: span * copies },
        orders: Array.from({ length: copies }, (_, c) =>
          example.orders.map((o) => ({
            ...o,
            id: String(c * 100_000 + Number(o.id)),
            interval: o.interval + c * span,
          })),
        ).flat(),
      };
      let callbackRan = false;
      let resolvedBeforeCallback: boolean | undefined;
      const solved = solveInWorker(input).then(() => {
        resolvedBeforeCallback = !callbackRan;
      });
      setImmediate(() => {
        callbackRan = true;
      });
      await solved;
      expect(resolvedBeforeCallback).to.equal(false);
    });
  });

  describe("when the instance is invalid", () => {
    it("rejects with DispatchInputError naming the field", async () => {
      const error = await solveInWorker({
        horizon: { firstInterval: 1, intervals: 1 },
        zones: [1],
        orders: [order("1", 2, "bid", 1, 1, 1)],
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(DispatchInputError);
      expect((error as DispatchInputError).field).to.equal("orders.0.zone");
    });
  });

  describe("when the model is infeasible", () => {
    it("rejects with DispatchModelError", async () => {
      const error = await solveInWorker({
        horizon: { firstInterval: 1, intervals: 2 },
        zones: [1],
        batteries: [battery("1", 1, { endSocWh: 500 })],
        orders: [],
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(DispatchModelError);
      expect((error as DispatchModelError).status).to.equal("infeasible");
    });
  });

  describe("when solves follow one another on the shared thread", () => {
    const grid = () =>
      JSON.parse(
        readFileSync(new URL("../../../../examples/dispatch-grid.json", import.meta.url), "utf8"),
      ) as unknown;

    it("answers concurrent requests each with its own schedule", async () => {
      const small = {
        horizon: { firstInterval: 1, intervals: 1 },
        zones: [1],
        orders: [order("1", 1, "bid", 1000, 300, 1), order("2", 1, "offer", 400, 100, 1)],
      };
      const [a, b, c] = await Promise.all([
        solveInWorker(grid()),
        solveInWorker(small),
        solveInWorker(grid()),
      ]);
      const expectedGrid = canonicalHash((await solveDispatch(grid())).schedule);
      expect(canonicalHash(a.schedule)).to.equal(expectedGrid);
      expect(canonicalHash(c.schedule)).to.equal(expectedGrid);
      expect(canonicalHash(b.schedule)).to.equal(canonicalHash((await solveDispatch(small)).schedule));
    });

    it("solves on the warmed-up thread after warmUpSolver resolves", async () => {
      await warmUpSolver();
      const warm = await solveInWorker(grid());
      expect(canonicalHash(warm.schedule)).to.equal(canonicalHash((await solveDispatch(grid())).schedule));
    });

    it("still solves after a request failed with a model error (the thread is replaced)", async () => {
      const infeasible = solveInWorker({
        horizon: { firstInterval: 1, intervals: 2 },
        zones: [1],
        batteries: [battery("1", 1, { endSocWh: 500 })],
        orders: [],
      });
      await infeasible.then(
        () => expect.fail("an infeasible instance must reject"),
        (e: unknown) => expect(e).to.be.instanceOf(DispatchModelError),
      );
      const after = await solveInWorker(grid());
      expect(canonicalHash(after.schedule)).to.equal(canonicalHash((await solveDispatch(grid())).schedule));
    });
  });
});
