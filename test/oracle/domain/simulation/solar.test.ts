import { expect } from "chai";
import { expectClose } from "../../../helpers/approx.js";
import {
  AMSTERDAM,
  decomposeGhi,
  erbsDiffuseFraction,
  haurwitzClearSkyGhi,
  planeOfArrayIrradiance,
  solarPosition,
} from "../../../../oracle/src/domain/simulation/solar.js";

const utc = (iso: string) => Date.parse(iso) / 1000;

/** Instant in [from, to] where the geometric elevation crosses `target` (bisection on solarPosition). */
function crossing(from: number, to: number, target: number): number {
  let lo = from;
  let hi = to;
  const rising = solarPosition(hi).elevationDeg > solarPosition(lo).elevationDeg;
  for (let i = 0; i < 40; i++) {
    const mid = (lo + hi) / 2;
    const above = solarPosition(mid).elevationDeg > target;
    if (above === rising) hi = mid;
    else lo = mid;
  }
  return (lo + hi) / 2;
}

describe("solarPosition", () => {
  describe("when it is the June solstice in Amsterdam", () => {
    // Solar noon ≈ 12:00 UTC − 4.9° · 4 min/° + 1.8 min (EoT ≈ −1.8 min) ≈ 11:42 UTC.
    const day = utc("2026-06-21T00:00:00Z");
    const maxElevation = () => {
      let best = -90;
      for (let s = 10 * 3600; s <= 13 * 3600; s += 30)
        best = Math.max(best, solarPosition(day + s).elevationDeg);
      return best;
    };

    it("peaks within 0.5° of 90° − latitude + 23.44°", () => {
      expectClose(maxElevation(), 90 - 52.37 + 23.44, 0.5);
    });

    it("stands due south at solar noon (11:42 UTC)", () => {
      const p = solarPosition(utc("2026-06-21T11:42:00Z"));
      expectClose(p.azimuthDeg, 180, 1);
      expect(Math.abs(p.hourAngleDeg)).to.be.below(0.5);
    });

    it("rises near 03:18 UTC (05:18 CEST), in the north-east", () => {
      // Sunrise: upper limb on the horizon with standard refraction = geometric elevation −0.833°.
      const t = crossing(utc("2026-06-21T02:00:00Z"), utc("2026-06-21T05:00:00Z"), -0.833);
      expect(Math.abs(t - utc("2026-06-21T03:18:00Z"))).to.be.at.most(10 * 60);
      expect(solarPosition(t).azimuthDeg).to.be.within(30, 60);
    });

    it("sets near 20:06 UTC (22:06 CEST), in the north-west", () => {
      const t = crossing(utc("2026-06-21T19:00:00Z"), utc("2026-06-21T21:30:00Z"), -0.833);
      expect(Math.abs(t - utc("2026-06-21T20:06:00Z"))).to.be.at.most(10 * 60);
      expect(solarPosition(t).azimuthDeg).to.be.within(300, 330);
    });

    it("has a declination near +23.44°", () => {
      expectClose(solarPosition(utc("2026-06-21T12:00:00Z")).declinationDeg, 23.44, 0.1);
    });
  });

  describe("when it is the December solstice", () => {
    it("peaks near 90° − latitude − 23.44°", () => {
      const day = utc("2026-12-21T00:00:00Z");
      let best = -90;
      for (let s = 10 * 3600; s <= 13 * 3600; s += 30)
        best = Math.max(best, solarPosition(day + s).elevationDeg);
      expectClose(best, 90 - 52.37 - 23.44, 0.5);
    });
  });

  describe("equation of time", () => {
    it("is near +16 min in early November and near −14 min in mid February (published extremes)", () => {
      expectClose(solarPosition(utc("2026-11-03T12:00:00Z")).equationOfTimeMin, 16.4, 0.7);
      expectClose(solarPosition(utc("2026-02-11T12:00:00Z")).equationOfTimeMin, -14.2, 0.7);
    });
  });

  it("uses Amsterdam by default", () => {
    const t = utc("2026-06-21T09:00:00Z");
    expect(solarPosition(t)).to.deep.equal(solarPosition(t, AMSTERDAM));
  });
});

describe("haurwitzClearSkyGhi", () => {
  it("is 1098·exp(−0.057) ≈ 1037.2 W/m² with the sun at the zenith", () => {
    expectClose(haurwitzClearSkyGhi(0), 1037.16, 0.05);
  });

  it("is 1098·0.5·exp(−0.114) ≈ 489.85 W/m² at zenith 60°", () => {
    expectClose(haurwitzClearSkyGhi(60), 489.85, 0.05);
  });

  it("is zero with the sun below the horizon", () => {
    expect(haurwitzClearSkyGhi(95)).to.equal(0);
  });
});

describe("erbsDiffuseFraction", () => {
  it("follows the three published branches", () => {
    expectClose(erbsDiffuseFraction(0.1), 0.991, 1e-9);
    expect(erbsDiffuseFraction(0.9)).to.equal(0.165);
    // kt = 0.5: 0.9511 − 0.0802 + 1.097 − 2.07975 + 0.771 = 0.65915
    expectClose(erbsDiffuseFraction(0.5), 0.65915, 1e-5);
  });
});

describe("planeOfArrayIrradiance", () => {
  const position = solarPosition(utc("2026-06-21T10:00:00Z"));
  const parts = decomposeGhi(haurwitzClearSkyGhi(position.zenithDeg), position);

  describe("when the plane is horizontal", () => {
    it("receives the global horizontal irradiance", () => {
      expectClose(planeOfArrayIrradiance(parts, position, { tiltDeg: 0, azimuthDeg: 180 }), parts.ghi, 1e-6);
    });
  });

  describe("when the plane faces the sun", () => {
    it("receives DNI plus part of the diffuse light", () => {
      const facing = { tiltDeg: position.zenithDeg, azimuthDeg: position.azimuthDeg };
      const poa = planeOfArrayIrradiance(parts, position, facing);
      expect(poa).to.be.above(parts.dni);
      expect(poa).to.be.above(planeOfArrayIrradiance(parts, position, { tiltDeg: 35, azimuthDeg: 0 }));
    });
  });

  it("splits a clear sky into mostly beam light", () => {
    expect(parts.dhi / parts.ghi).to.be.below(0.3);
    expect(parts.dni).to.be.within(600, 1000);
  });
});
