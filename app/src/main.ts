/**
 * The prosumer web app: connect a wallet, check the network, show balances, deposit (permit when
 * the token supports it) and withdraw, the zone's order book for the next open intervals, bid and
 * offer forms with the lock shown before signing, my orders with their state and imbalance, zone
 * prices per interval as a chart, certificates and retirement, and the battery flexibility panel
 * (standing orders of the account's batteries). Every contract revert is shown by its custom
 * error name.
 *
 * Every contract call goes through the client module (oracle/src/client/); the app is split by
 * concern: state.ts (settings, read client, state), wallet.ts (discovery, connection, network),
 * funds.ts (balances, deposit, withdraw), orders.ts (book, my orders, placing), certificates.ts,
 * flex.ts (battery flexibility orders), forms.ts (forms and buttons), refresh.ts (redraw after
 * each action), errors.ts (messages).
 */
import { readMarket } from "../../oracle/src/client/index.ts";
import { describeError } from "./errors.ts";
import { wireForms } from "./forms.ts";
import { refresh } from "./refresh.ts";
import { $, market, reader, settings, state, status } from "./state.ts";
import { discoverWallets } from "./wallet.ts";

async function loadMarket(): Promise<void> {
  const m = await readMarket(reader, { market });
  state.token = m.token;
  state.decimals = m.decimals;
  state.symbol = m.symbol;
  state.collateralPerKwh = m.collateralPerKwh;
  state.intervalSeconds = m.intervalSeconds;
  state.gateClosureSeconds = m.gateClosureSeconds;
}

async function start(): Promise<void> {
  wireForms();
  if (settings.market === "")
    return status(
      "No market address: deploy the local suite (npm run local:deploy) or set GRIDBRAIN_MARKET_ADDRESS",
      "error",
    );
  discoverWallets((wallets) => {
    state.wallets = wallets;
    ($("wallet-select") as HTMLSelectElement).replaceChildren(
      ...wallets.map((w) => new Option(w.name, w.uuid)),
    );
  });
  try {
    await loadMarket();
  } catch (error) {
    return status(
      `Cannot read the market at ${settings.market} via ${settings.rpcUrl}: ${describeError(error)}`,
      "error",
    );
  }
  // A wallet connected while the market was being read keeps its "Connected with …": this status
  // used to overwrite it when the read finished last (a slow machine, a slow RPC).
  if (state.account === undefined)
    status(
      state.wallets.length === 0 ? "No wallet found: install an EIP-6963 wallet" : "Connect your wallet",
    );
  setInterval(() => void refresh().catch(() => undefined), 5000);
}

void start();
