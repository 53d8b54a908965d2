import { expect } from "chai";
import type { Address, Hex } from "viem";
import {
  FlexDirection,
  Side,
  flexOrderId,
  flexStepKey,
  flexibilityDomain,
  gridBrainDomain,
  hashMeterReading,
  hashMeterReport,
  hashOrder,
  hashScheduleReport,
} from "../../oracle/src/domain/eip712.js";
import { connect, deploySuite } from "./helpers/fixture.js";

const conn = await connect();
const fixture = () =>
  conn.networkHelpers.loadFixture(async function suite() {
    return deploySuite(conn);
  });

describe("EIP-712 twins (oracle/src/domain/eip712.ts)", function () {
  const root = `0x${"ab".repeat(32)}` as Hex;
  const digest = `0x${"cd".repeat(32)}` as Hex;

  describe("hashOrder", function () {
    describe("when the order is the one placed on-chain", function () {
      it("equals the order id the market emitted", async function () {
        const { market, alice, interval, chainId, marketAddress } = await fixture();
        const tx = await market.connect(alice).placeBid(interval, 1, 1500n, 333_000n, 7n);
        const receipt = await tx.wait();
        const log = receipt!.logs
          .map((l) => market.interface.parseLog(l))
          .find((l) => l?.name === "OrderPlaced");
        const expected = hashOrder(gridBrainDomain(chainId, marketAddress), {
          owner: alice.address as Address,
          intervalId: interval,
          side: Side.Buy,
          zoneId: 1,
          quantityWh: 1500n,
          limitPricePerKwh: 333_000n,
          nonce: 7n,
        });
        expect(log?.args.orderId).to.equal(expected);
      });
    });
  });

  describe("hashScheduleReport", function () {
    describe("when given the same report", function () {
      it("equals the contract's digest", async function () {
        const { market, chainId, marketAddress } = await fixture();
        const report = {
          market: marketAddress,
          intervalId: 2_000_000n,
          configEpoch: 3n,
          ordersDigest: digest,
          scheduleRoot: root,
          fillCount: 42,
          zonePrices: [250_000n, 0n, 2n ** 200n],
        };
        const onChain = await market.hashScheduleReport(report);
        expect(hashScheduleReport(gridBrainDomain(chainId, marketAddress), report)).to.equal(onChain);
      });
    });

    describe("when the chain id differs", function () {
      it("differs from the contract's digest", async function () {
        const { market, chainId, marketAddress } = await fixture();
        const report = {
          market: marketAddress,
          intervalId: 1n,
          configEpoch: 1n,
          ordersDigest: digest,
          scheduleRoot: root,
          fillCount: 0,
          zonePrices: [],
        };
        const onChain = await market.hashScheduleReport(report);
        expect(hashScheduleReport(gridBrainDomain(chainId + 1n, marketAddress), report)).to.not.equal(
          onChain,
        );
      });
    });
  });

  describe("hashMeterReport", function () {
    describe("when given the same report", function () {
      it("equals the contract's digest", async function () {
        const { market, chainId, marketAddress } = await fixture();
        const report = {
          market: marketAddress,
          intervalId: 2_000_001n,
          configEpoch: 1n,
          meterRoot: root,
          scheduleRoot: root,
          zonePrices: [200_000n, 2n ** 255n],
          shortPrices: [400_000n, 2n ** 127n],
          longPrices: [50_000n, 0n],
          zoneSurplusWh: [1_234n, 0n],
        };
        const onChain = await market.hashMeterReport(report);
        expect(hashMeterReport(gridBrainDomain(chainId, marketAddress), report)).to.equal(onChain);
      });
    });
  });

  describe("hashMeterReading", function () {
    describe("when given the same reading", function () {
      it("equals the contract's digest", async function () {
        const { market, chainId, marketAddress, bob } = await fixture();
        const reading = {
          meter: bob.address as Address,
          intervalId: 2_000_002n,
          injectedWh: 1234n,
          consumedWh: 2n ** 64n - 1n,
        };
        const onChain = await market.hashMeterReading(
          reading.meter,
          reading.intervalId,
          reading.injectedWh,
          reading.consumedWh,
        );
        expect(hashMeterReading(gridBrainDomain(chainId, marketAddress), reading)).to.equal(onChain);
      });
    });

    describe("when a field is out of range", function () {
      it("throws naming the field", function () {
        const domain = gridBrainDomain(31337n, "0x0000000000000000000000000000000000000001");
        expect(() =>
          hashMeterReading(domain, {
            meter: "0x0000000000000000000000000000000000000002",
            intervalId: 1n,
            injectedWh: 2n ** 64n,
            consumedWh: 0n,
          }),
        ).to.throw(/reading\.injectedWh is not a uint64/);
      });
    });
  });
  describe("flexOrderId and flexStepKey", function () {
    describe("when given the same order", function () {
      it("equal the flexibility market's hashFlexOrder and flexStepKey", async function () {
        const { flexibilityMarket, market, bob, chainId } = await fixture();
        const address = (await flexibilityMarket.getAddress()) as Address;
        expect(await market.flexibilityMarket()).to.equal(address);
        const order = {
          owner: bob.address as Address,
          batteryId: 7,
          firstInterval: 2_000_000n,
          lastInterval: 2_000_671n,
          maxChargePricePerKwh: 2n ** 127n,
          minDischargePricePerKwh: 150_000n,
          chargeBudget: 1_000_000n,
          initialSocWh: 2_000n,
          nonce: 3n,
        };
        const id = flexOrderId(flexibilityDomain(chainId, address), order);
        expect(id).to.equal(await flexibilityMarket.hashFlexOrder(order));
        for (const direction of [FlexDirection.Charge, FlexDirection.Discharge]) {
          expect(flexStepKey(id, direction)).to.equal(await flexibilityMarket.flexStepKey(id, direction));
        }
      });
    });

    describe("when the domain is the market's", function () {
      it("differs from the contract's digest", async function () {
        const { flexibilityMarket, bob, chainId, marketAddress } = await fixture();
        const order = {
          owner: bob.address as Address,
          batteryId: 0,
          firstInterval: 1n,
          lastInterval: 1n,
          maxChargePricePerKwh: 0n,
          minDischargePricePerKwh: 0n,
          chargeBudget: 0n,
          initialSocWh: 0n,
          nonce: 0n,
        };
        expect(flexOrderId(flexibilityDomain(chainId, marketAddress), order)).to.not.equal(
          await flexibilityMarket.hashFlexOrder(order),
        );
      });
    });

    describe("when a field is out of range", function () {
      it("throws naming the field", function () {
        const domain = flexibilityDomain(1n, `0x${"11".repeat(20)}` as Address);
        const order = {
          owner: `0x${"22".repeat(20)}` as Address,
          batteryId: 0,
          firstInterval: 1n,
          lastInterval: 1n,
          maxChargePricePerKwh: 0n,
          minDischargePricePerKwh: 0n,
          chargeBudget: 2n ** 128n,
          initialSocWh: 0n,
          nonce: 0n,
        };
        expect(() => flexOrderId(domain, order)).to.throw("order.chargeBudget is not a uint128");
      });
    });
  });
});
