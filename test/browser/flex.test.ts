/**
 * The web app's "Battery flexibility" panel in a real browser (Debian's Chromium driven by
 * playwright-core) against a Hardhat node with the suite deployed: the owner of a registered
 * battery connects the injected test wallet, places a standing order (budget approved and locked),
 * changes it, refunds the replaced order's budget and cancels the new one, each shown in the
 * orders table; an order outside the battery's SoC bounds is refused by name before anything is
 * sent. No oracle node is needed: nothing is scheduled here (test/oracle/client/flexSettle.test.ts
 * covers settlement and earnings).
 */
import { expect } from "chai";
import { type Browser, type Page, chromium } from "playwright-core";
import { formatUnits } from "viem";
import {
  energyMarketAbi,
  flexibilityMarketAbi,
  gridRegistryAbi,
  testTokenAbi,
} from "../../oracle/src/chain/abis.js";
import { type Env, devAccount, setupMarket, startEnv } from "../e2e/harness.js";
import { type AppServer, buildAndServeApp } from "./app-server.js";
import { TEST_WALLET_NAME, TestWallet } from "./test-wallet.js";

const CHROMIUM = "/usr/bin/chromium";
/**
 * The bound of every wait for the page (an element, a text, a navigation): generous, since each
 * is a wait for a condition, not a timed assertion. Playwright's default of 30 s was once too
 * short for wallet discovery on a 2-core machine at load ~8 (page scripts parsed and the market
 * read slowly); the mocha timeout (300 s per test) stays the outer bound.
 */
const WAIT_MS = 120_000;
const gusd = (units: bigint) => `${formatUnits(units, 6)} gUSD`;
const MINTED = 100_000_000n; // 100 gUSD
const BUDGET = 1_500_000n; // "1.5"

async function untilText(page: Page, selector: string, expected: string, timeout = WAIT_MS): Promise<void> {
  try {
    await page.waitForFunction(
      `document.querySelector(${JSON.stringify(selector)})?.textContent === ${JSON.stringify(expected)}`,
      undefined,
      { timeout, polling: 200 },
    );
  } catch {
    const actual = await page
      .locator(selector)
      .textContent({ timeout: 1_000 })
      .catch(() => "(absent)");
    throw new Error(`${selector}: expected text ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

/** The cells of the first row of the flexibility table that contains `text`, once it appears. */
async function flexRow(page: Page, text: string, timeout = WAIT_MS): Promise<string[]> {
  const row = page.locator("#flex-rows tr", { hasText: text }).first();
  await row.waitFor({ timeout });
  return row.locator("td").allTextContents();
}

describe("prosumer web app: battery flexibility (browser)", function () {
  this.timeout(300_000);
  let env: Env;
  let app: AppServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let wallet: TestWallet;
  let first: bigint;
  const pageErrors: string[] = [];
  const owner = devAccount(6);
  const sent = () => wallet.calls.filter((m) => m === "eth_sendTransaction").length;

  const fillOrder = async (values: Record<string, string>) => {
    for (const [name, value] of Object.entries(values))
      await page.fill(`#flex-form input[name=${name}]`, value);
  };

  before(async () => {
    env = await startEnv();
    const operator = devAccount(0);
    const { registry, token } = env.addresses;
    await setupMarket(env, [], 1);
    await env.write(operator, registry, gridRegistryAbi, "registerParticipant", [owner.address, 0]);
    await env.write(operator, registry, gridRegistryAbi, "registerBattery", [
      {
        owner: owner.address,
        zoneId: 0,
        capacityWh: 10_000n,
        maxChargeW: 5_000n,
        maxDischargeW: 5_000n,
        chargeEfficiencyBps: 9_500,
        dischargeEfficiencyBps: 9_500,
        minSocWh: 1_000n,
        maxSocWh: 9_000n,
      },
    ]);
    await env.write(operator, token, testTokenAbi, "mint", [owner.address, MINTED]);
    const flex = await env.client.readContract({
      address: env.addresses.market,
      abi: energyMarketAbi,
      functionName: "flexibilityMarket",
    });
    first =
      (await env.client.readContract({
        address: flex,
        abi: flexibilityMarketAbi,
        functionName: "firstOpenInterval",
      })) + 2n;

    // No flexMarket setting: the app finds the FlexibilityMarket through the market.
    app = await buildAndServeApp({
      market: env.addresses.market,
      registry: env.addresses.registry,
      rpcUrl: env.chain.url,
      chainId: 31337,
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
    page.setDefaultTimeout(WAIT_MS);
    page.setDefaultNavigationTimeout(WAIT_MS);
    page.on("pageerror", (error) => pageErrors.push(error.message));
    wallet = new TestWallet(owner, env.chain.url, 31337);
    await wallet.install(page);
    await page.goto(app.url);
    await page.locator("#wallet-select option", { hasText: TEST_WALLET_NAME }).waitFor({ state: "attached" });
    // The app has read the market and listed the wallets once it says so; a click before that
    // had its "Connected with …" overwritten by this status when the market read finished late.
    await untilText(page, "#status", "Connect your wallet");
    await page.click("#connect");
    await untilText(page, "#account", owner.address);
  });

  after(async () => {
    await Promise.allSettled([browser?.close(), app?.close()]);
    await env?.stop();
  });

  it("lists the battery the wallet owns and an empty flexibility balance", async () => {
    await page.locator("#flex-battery option", { hasText: "battery 0" }).waitFor({ state: "attached" });
    await untilText(page, "#flex-balance", gusd(0n));
    expect(await page.locator("#flex-none").isHidden()).to.equal(true);
  });

  it("refuses a state of charge above the battery's maxSocWh by name, sending nothing", async () => {
    const before = sent();
    await fillOrder({
      first: String(first),
      last: String(first + 3n),
      maxCharge: "0.12",
      minDischarge: "0.25",
      budget: "1.5",
      soc: "9.5",
    });
    await page.click("#flex-submit");
    await untilText(
      page,
      "#status",
      "initialSocWh: 9500 Wh is outside battery 0's registered bounds [1000, 9000] Wh",
    );
    expect(sent(), "nothing sent").to.equal(before);
  });

  it("places an order: approves and locks the budget, lists it as active", async () => {
    await fillOrder({ soc: "4.5" });
    await page.click("#flex-submit");
    await untilText(page, "#status", "Flexibility order placed");
    expect(await flexRow(page, `${first}–${first + 3n}`)).to.deep.equal([
      "0",
      `${first}–${first + 3n}`,
      gusd(120_000n),
      gusd(250_000n),
      `${gusd(BUDGET)} (spent ${gusd(0n)})`,
      "active",
      "–",
      gusd(0n),
      "Change",
      "Cancel",
      "",
    ]);
    await untilText(page, "#wallet-balance", gusd(MINTED - BUDGET));
  });

  it("changes it from the form filled by Change: the old order's budget becomes refundable", async () => {
    await page
      .locator("#flex-rows tr", { hasText: "active" })
      .getByRole("button", { name: "Change" })
      .click();
    await page.locator("#flex-mode", { hasText: "Changing" }).waitFor();
    expect(await page.inputValue("#flex-form input[name=soc]")).to.equal("4.5");
    await fillOrder({ maxCharge: "0.1" });
    await page.click("#flex-submit");
    await untilText(page, "#status", "Flexibility order changed");
    await untilText(page, "#flex-mode", "New order");
    // The status shows before the redraw: wait for the replaced order's new state first.
    const old = await flexRow(page, "refundable");
    expect(old[2]).to.equal(gusd(120_000n));
    expect(old[5]).to.equal(`ended: ${gusd(BUDGET)} refundable`);
    const active = await flexRow(page, "active");
    expect(active[2]).to.equal(gusd(100_000n));
    await untilText(page, "#wallet-balance", gusd(MINTED - 2n * BUDGET));
  });

  it("refunds the replaced order's budget to the flexibility balance", async () => {
    await page
      .locator("#flex-rows tr", { hasText: "refundable" })
      .getByRole("button", { name: "Refund" })
      .click();
    await untilText(page, "#status", "Budget refunded to the flexibility balance");
    await untilText(page, "#flex-balance", gusd(BUDGET));
    expect((await flexRow(page, "refunded"))[2]).to.equal(gusd(120_000n));
  });

  it("cancels the new order before its window: it is listed as refundable", async () => {
    await page
      .locator("#flex-rows tr", { hasText: "active" })
      .getByRole("button", { name: "Cancel" })
      .click();
    await untilText(page, "#status", "Flexibility order cancelled");
    const cancelled = await flexRow(page, "refundable");
    expect(cancelled[2]).to.equal(gusd(100_000n));
    expect(await page.locator("#flex-rows tr", { hasText: "active" }).count()).to.equal(0);
    expect(pageErrors, "uncaught errors in the page").to.deep.equal([]);
  });
});
