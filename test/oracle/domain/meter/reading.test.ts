import { expect } from "chai";
import { concatHex, encodeAbiParameters, keccak256, toHex } from "viem";
import {
  METER_READING_TYPES,
  SignedMeterReadingSchema,
  UINT64_MAX,
  meterReadingDigest,
  recoverMeterReadingSigner,
  signMeterReading,
  uint64Schema,
} from "../../../../oracle/src/domain/meter/reading.js";
import { CHAIN_ID, MARKET, METERS } from "./fixtures.js";

describe("METER_READING_TYPES", () => {
  it("encodes the shared type string MeterReading(address meter,uint64 intervalId,uint64 injectedWh,uint64 consumedWh)", () => {
    const fields = METER_READING_TYPES.MeterReading.map((f) => `${f.type} ${f.name}`).join(",");
    expect(`MeterReading(${fields})`).to.equal(
      "MeterReading(address meter,uint64 intervalId,uint64 injectedWh,uint64 consumedWh)",
    );
  });
});

describe("meterReadingDigest", () => {
  it("equals keccak256(0x1901 ‖ domainSeparator ‖ hashStruct) computed by hand", () => {
    const reading = { meter: METERS.A.address, intervalId: 2000000n, injectedWh: 1500n, consumedWh: 7n };
    const domainTypeHash = keccak256(
      toHex("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
    );
    const domainSeparator = keccak256(
      encodeAbiParameters(
        [
          { type: "bytes32" },
          { type: "bytes32" },
          { type: "bytes32" },
          { type: "uint256" },
          { type: "address" },
        ],
        [domainTypeHash, keccak256(toHex("GridBrain")), keccak256(toHex("1")), BigInt(CHAIN_ID), MARKET],
      ),
    );
    const typeHash = keccak256(
      toHex("MeterReading(address meter,uint64 intervalId,uint64 injectedWh,uint64 consumedWh)"),
    );
    const structHash = keccak256(
      encodeAbiParameters(
        [
          { type: "bytes32" },
          { type: "address" },
          { type: "uint64" },
          { type: "uint64" },
          { type: "uint64" },
        ],
        [typeHash, reading.meter, reading.intervalId, reading.injectedWh, reading.consumedWh],
      ),
    );
    expect(meterReadingDigest(CHAIN_ID, MARKET, reading)).to.equal(
      keccak256(concatHex(["0x1901", domainSeparator, structHash])),
    );
  });
});

describe("recoverMeterReadingSigner", () => {
  it("recovers the meter that signed", async () => {
    const signed = await signMeterReading(METERS.B, CHAIN_ID, MARKET, {
      intervalId: 5n,
      injectedWh: 0n,
      consumedWh: 9n,
    });
    expect(await recoverMeterReadingSigner(CHAIN_ID, MARKET, signed)).to.equal(METERS.B.address);
  });
  describe("when the chain id differs (replay on another chain)", () => {
    it("recovers a different address", async () => {
      const signed = await signMeterReading(METERS.B, CHAIN_ID, MARKET, {
        intervalId: 5n,
        injectedWh: 0n,
        consumedWh: 9n,
      });
      expect(await recoverMeterReadingSigner(1, MARKET, signed)).not.to.equal(METERS.B.address);
    });
  });
});

describe("uint64Schema", () => {
  const parse = (v: unknown) => uint64Schema().safeParse(v);
  it("accepts 0, safe integers, decimal strings and 2^64-1", () => {
    expect(parse(0).data).to.equal(0n);
    expect(parse(9007199254740991).data).to.equal(9007199254740991n);
    expect(parse(" 42 ").data).to.equal(42n);
    expect(parse("18446744073709551615").data).to.equal(UINT64_MAX);
  });
  for (const bad of [
    1.5,
    -1,
    "1.0",
    "-0",
    "1e3",
    "12Wh",
    Infinity,
    NaN,
    null,
    [],
    {},
    "18446744073709551616",
    2 ** 53,
  ])
    it(`rejects ${JSON.stringify(bad) ?? String(bad)}`, () => {
      expect(parse(bad).success).to.equal(false);
    });
});

describe("SignedMeterReadingSchema", () => {
  it("checksums the meter and lower-cases the signature", async () => {
    const signed = await signMeterReading(METERS.A, CHAIN_ID, MARKET, {
      intervalId: 1n,
      injectedWh: 2n,
      consumedWh: 3n,
    });
    const parsed = SignedMeterReadingSchema.parse({
      ...signed,
      meter: signed.meter.toLowerCase(),
      intervalId: "1",
      injectedWh: 2,
      consumedWh: "3",
      signature: signed.signature.toUpperCase().replace("0X", "0x"),
    });
    expect(parsed).to.deep.equal({ ...signed, signature: signed.signature.toLowerCase() });
  });
});
