/**
 * The prosumer web app in a real browser (Debian's Chromium driven by playwright-core), against a
 * Hardhat node with the suite deployed and five oracle nodes (3-of-5): a prosumer connects the
 * injected test wallet, deposits with a permit, places an offer, sees it in the book next to a
 * counterparty's bid, the committee commits and settles the interval, the UI shows the fill, the
 * clearing price in the chart, the balance change, then the imbalance after metering; finally a
 * late offer shows "Gate closed" and a wrong network is reported and switched.
 */
import { mkdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { expect } from "chai";
import { type Browser, type Page, chromium } from "playwright-core";
import { formatUnits } from "viem";
import { energyMarketAbi, gridRegistryAbi, testTokenAbi } from "../../oracle/src/chain/abis.js";
import { PROJECT_ROOT } from "../../oracle/src/devnet/local-services.js";
import { signMeterReading } from "../../oracle/src/domain/meter/reading.js";
import type { OracleNode } from "../../oracle/src/node/node.js";
import {
  COLLATERAL_PER_KWH,
  type Env,
  GATE,
  INTERVAL,
  METER_GRACE,
  type Party,
  SHORT_PRICE,
  costDown,
  costUp,
  devAccount,
  newMeter,
  nodeConfigs,
  setupMarket,
  startEnv,
  startNodes,
  waitFor,
} from "../e2e/harness.js";
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
const SCREENSHOT = join(PROJECT_ROOT, "cache", "test-artifacts", "wallet.png");
const DECIMALS = 6; // TestToken (gUSD)
const gusd = (units: bigint) => `${formatUnits(units, DECIMALS)} gUSD`;

// The prosumer (UI, seller) and the counterparty (test, buyer), both in zone 0.
const MINTED = 1_000_000_000n; // 1000 gUSD in the prosumer's wallet, nothing deposited
const UI_DEPOSIT = "250";
const DEPOSITED = 250_000_000n;
const OFFER_KWH = "1.234";
const OFFER_WH = 1234n;
const OFFER_PRICE = "0.100001";
const OFFER_LIMIT = 100_001n;
const BID_LIMIT = 150_003n;
// One zone, no line: a full cross of one offer and one bid clears at floor((L + U) / 2) with
// L = the matched ask, U = the matched bid (docs/DISPATCH.md, isolated zone).
const PRICE = (OFFER_LIMIT + BID_LIMIT) / 2n; // 125002
const LOCK = costUp(COLLATERAL_PER_KWH, OFFER_WH); // 123400
const PAID = costDown(PRICE, OFFER_WH); // 154252 (154252.468 rounded down)
// Metering: the prosumer injected 1200 Wh of the 1234 sold → short 34 Wh at the short price.
const INJECTED_WH = 1200n;
const SHORT_WH = OFFER_WH - INJECTED_WH;
const CHARGED = costUp(SHORT_PRICE, SHORT_WH); // 6800

/** Waits until `selector`'s text equals `expected`; on timeout says what the text was. */
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

/** The cells of the first row of `table` that contains `text`, once it appears. */
async function rowCells(page: Page, table: string, text: string, timeout = WAIT_MS): Promise<string[]> {
  const row = page.locator(`${table} tr`, { hasText: text }).first();
  await row.waitFor({ timeout });
  return row.locator("td").allTextContents();
}

describe("prosumer web app (browser)", function () {
  this.timeout(300_000);
  let env: Env;
  let nodes: OracleNode[] = [];
  let app: AppServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let wallet: TestWallet;
  const pageErrors: string[] = [];
  const prosumer = devAccount(6);
  const prosumerMeter = newMeter();
  const counterparty: Party = {
    name: "buyer",
    account: devAccount(7),
    zone: 0,
    side: "bid",
    quantityWh: OFFER_WH,
    limit: BID_LIMIT,
    meter: newMeter(),
  };
  let intervalId: bigint;

  before(async () => {
    env = await startEnv();
    const operator = devAccount(0);
    const { registry, token } = env.addresses;
    await setupMarket(env, [counterparty], 1);
    await env.write(operator, registry, gridRegistryAbi, "registerParticipant", [prosumer.address, 0]);
    await env.write(operator, registry, gridRegistryAbi, "registerMeter", [
      prosumerMeter.address,
      prosumer.address,
      1,
    ]);
    await env.write(operator, token, testTokenAbi, "mint", [prosumer.address, MINTED]);

    app = await buildAndServeApp({
      market: env.addresses.market,
      registry: env.addresses.registry,
      rpcUrl: env.chain.url,
      chainId: 31337,
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
    page.setDefaultTimeout(WAIT_MS);
    page.setDefaultNavigationTimeout(WAIT_MS);
    page.on("pageerror", (error) => pageErrors.push(error.message));
    wallet = new TestWallet(prosumer, env.chain.url, 31337);
    await wallet.install(page);
    await page.goto(app.url);
  });

  after(async () => {
    await Promise.allSettled([browser?.close(), app?.close(), ...nodes.map((n) => n.close())]);
    await env?.stop();
  });

  describe("when a prosumer trades through the injected wallet", () => {
    it("discovers the wallet through EIP-6963 and connects on the right network", async () => {
      await page
        .locator("#wallet-select option", { hasText: TEST_WALLET_NAME })
        .waitFor({ state: "attached" });
      // The app has read the market and listed the wallets once it says so; a click before that
      // had its "Connected with …" overwritten by this status when the market read finished late.
      await untilText(page, "#status", "Connect your wallet");
      await page.click("#connect");
      await untilText(page, "#account", prosumer.address);
      await untilText(page, "#status", `Connected with ${TEST_WALLET_NAME}`);
      await untilText(page, "#network", "chain 31337");
      await untilText(page, "#zone", "0");
      await untilText(page, "#wallet-balance", gusd(MINTED));
      expect(wallet.calls, "asked the wallet for accounts").to.include("eth_requestAccounts");
    });

    it("deposits with a permit and shows the free balance", async () => {
      await page.fill("#deposit-form input[name=amount]", UI_DEPOSIT);
      await page.click("#deposit-form button");
      await untilText(page, "#status", "Deposited");
      await untilText(page, "#free", gusd(DEPOSITED));
      await untilText(page, "#wallet-balance", gusd(MINTED - DEPOSITED));
      expect(wallet.calls, "signed an EIP-2612 permit").to.include("eth_signTypedData_v4");
      expect(
        wallet.calls.filter((m) => m === "eth_sendTransaction"),
        "one transaction: depositWithPermit",
      ).to.have.length(1);
    });

    it("shows the lock before signing, places the offer and lists it in the zone's book", async () => {
      intervalId = (await env.now()) / INTERVAL + 2n;
      await page.selectOption("#order-form select[name=side]", "offer");
      await page.selectOption("#interval-select", String(intervalId));
      await page.fill("#order-form input[name=kwh]", OFFER_KWH);
      await page.fill("#order-form input[name=price]", OFFER_PRICE);
      await untilText(
        page,
        "#lock-preview",
        `Lock: ${gusd(LOCK)} (imbalance collateral; paid after delivery)`,
      );
      await page.click("#order-form button");
      await untilText(page, "#status", "Order placed");
      await untilText(page, "#free", gusd(DEPOSITED - LOCK));
      await untilText(page, "#locked", gusd(LOCK));
      await untilText(page, "#pending-payouts", gusd(0n));
      expect(await rowCells(page, "#book-rows", "offer")).to.deep.equal([
        String(intervalId),
        "offer",
        OFFER_KWH,
        gusd(OFFER_LIMIT),
        `${prosumer.address.slice(0, 8)}…`,
      ]);
      expect(await rowCells(page, "#order-rows", String(intervalId))).to.deep.equal([
        String(intervalId),
        "offer",
        OFFER_KWH,
        gusd(OFFER_LIMIT),
        gusd(LOCK),
        "open",
        "–",
        "Cancel",
      ]);

      // The counterparty bids on chain; the app's refresh shows it in the book.
      await env.write(counterparty.account, env.addresses.market, energyMarketAbi, "placeBid", [
        intervalId,
        0,
        OFFER_WH,
        BID_LIMIT,
        1n,
      ]);
      expect(await rowCells(page, "#book-rows", "bid")).to.deep.equal([
        String(intervalId),
        "bid",
        OFFER_KWH,
        gusd(BID_LIMIT),
        `${counterparty.account.address.slice(0, 8)}…`,
      ]);
    });

    it("shows the fill, the clearing price and the balance change once the committee settles", async () => {
      await env.setTime(intervalId * INTERVAL - GATE + 1n);
      const { configs } = await nodeConfigs(env);
      nodes = await startNodes(configs);
      await waitFor("the interval's fills settled on chain", async () => {
        const s = await env.client.readContract({
          address: env.addresses.market,
          abi: energyMarketAbi,
          functionName: "intervalState",
          args: [intervalId],
        });
        return s.scheduled && s.fillCount > 0 && s.settledCount === s.fillCount ? s : undefined;
      });

      // Sellers are paid after delivery: the payout is withheld until the imbalance is settled.
      const settled = `sold ${OFFER_KWH} kWh for ${gusd(PAID)}: paid once delivery is settled`;
      expect(await rowCells(page, "#order-rows", settled)).to.deep.equal([
        String(intervalId),
        "offer",
        OFFER_KWH,
        gusd(OFFER_LIMIT),
        gusd(LOCK),
        settled,
        "–",
        "",
      ]);
      // The filled part's collateral and the payout (the clearing price, rounded down) stay locked.
      await untilText(page, "#free", gusd(DEPOSITED - LOCK));
      await untilText(page, "#locked", gusd(LOCK + PAID));
      await untilText(page, "#pending-payouts", gusd(PAID));
      await untilText(page, "#owed", gusd(0n));
      const point = page.locator(
        `#price-chart circle.price-point[data-interval="${intervalId}"][data-zone="0"]`,
      );
      expect(await point.getAttribute("data-price"), "chart point of the interval").to.equal(
        PRICE.toString(),
      );
      expect(await point.locator("title").textContent()).to.equal(
        `interval ${intervalId}, zone 0: ${gusd(PRICE)} per kWh`,
      );

      mkdirSync(dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(statSync(SCREENSHOT).size, "screenshot bytes").to.be.greaterThan(0);
    });

    it("shows the imbalance and releases the collateral after metering", async () => {
      const end = (intervalId + 1n) * INTERVAL;
      await env.setTime(end + 1n);
      const market = env.addresses.market;
      const readings = await Promise.all([
        signMeterReading(prosumerMeter, 31337, market, {
          intervalId,
          injectedWh: INJECTED_WH,
          consumedWh: 0n,
        }),
        signMeterReading(counterparty.meter!, 31337, market, {
          intervalId,
          injectedWh: 0n,
          consumedWh: OFFER_WH,
        }),
      ]);
      const body = JSON.stringify(readings, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
      for (const node of nodes) {
        const res = await fetch(`${node.url}/meter-readings`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        });
        expect(await res.json(), `ingest at ${node.url}`).to.include({ accepted: 2, rejected: 0 });
      }
      await env.setTime(end + METER_GRACE + 1n);
      await waitFor("the prosumer's imbalance settled on chain", async () =>
        (await env.client.readContract({
          address: market,
          abi: energyMarketAbi,
          functionName: "imbalanceSettled",
          args: [prosumer.address, intervalId],
        }))
          ? true
          : undefined,
      );

      const imbalance = `short ${formatUnits(SHORT_WH, 3)} kWh, charged ${gusd(CHARGED)}`;
      const cells = await rowCells(page, "#order-rows", imbalance);
      expect(cells[0]).to.equal(String(intervalId));
      expect(cells[6]).to.equal(imbalance);
      expect(cells[5]).to.equal(`sold ${OFFER_KWH} kWh: paid ${gusd(PAID)} at delivery`);
      await untilText(page, "#free", gusd(DEPOSITED + PAID - CHARGED));
      await untilText(page, "#locked", gusd(0n));
      await untilText(page, "#pending-payouts", gusd(0n));
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(statSync(SCREENSHOT).size, "screenshot bytes").to.be.greaterThan(0);
    });
  });

  describe("when an order is placed after its gate closed", () => {
    it("shows Gate closed and takes no lock", async () => {
      // The earliest interval still open (the one chosen before is labelled "gate closed" by now).
      const labels = await page.locator("#interval-select option").allTextContents();
      const open = labels.find((label) => !label.includes("gate closed"));
      expect(open, "an open interval in the form").to.not.equal(undefined);
      const late = BigInt(open!.split(" ")[0]!);
      await page.selectOption("#interval-select", String(late));
      await page.selectOption("#order-form select[name=side]", "offer");
      await page.fill("#order-form input[name=kwh]", "1");
      await page.fill("#order-form input[name=price]", "0.1");
      await env.setTime(late * INTERVAL - GATE + 1n);
      const sent = wallet.calls.filter((m) => m === "eth_sendTransaction").length;
      await page.click("#order-form button");
      await untilText(page, "#status", `Gate closed for interval ${late}`);
      expect(
        wallet.calls.filter((m) => m === "eth_sendTransaction"),
        "nothing sent",
      ).to.have.length(sent);
      await untilText(page, "#free", gusd(DEPOSITED + PAID - CHARGED));
    });
  });

  describe("when the wallet is on another network", () => {
    it("says so, sends nothing, and switches back on request", async () => {
      wallet.reportedChainId = 1;
      const sent = wallet.calls.filter((m) => m === "eth_sendTransaction").length;
      await page.fill("#withdraw-form input[name=amount]", "1");
      await page.click("#withdraw-form button");
      await untilText(page, "#status", "Wrong network: switch to chain 31337");
      await untilText(page, "#network", "wrong network (chain 1, need 31337)");
      expect(
        wallet.calls.filter((m) => m === "eth_sendTransaction"),
        "nothing sent",
      ).to.have.length(sent);

      await page.click("#switch-network");
      await untilText(page, "#network", "chain 31337");
      expect(wallet.calls, "asked the wallet to switch").to.include("wallet_switchEthereumChain");
      expect(await page.locator("#switch-network").isHidden()).to.equal(true);
      expect(pageErrors, "uncaught errors in the page").to.deep.equal([]);
    });
  });
});
