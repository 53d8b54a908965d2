/**
 * Prosumer commands of the `gridbrain` CLI, for a keystore-held account trading on the market:
 * `deposit`, `withdraw`, `bid`, `offer`, `cancel`, `orders`, `balance`, `certificates`, `retire`,
 * `claim` (pull settlement of the account's own fill and imbalance, and of the interval's
 * flexibility steps, with proofs from a node), and
 * `flex place|change|cancel|show|refund|withdraw` (a battery's standing flexibility orders).
 * Amounts are decimal strings in token units ("12.5"), converted with the token's decimals
 * exactly (more fraction digits than the token has is an error, never rounded). Energy is given
 * in kWh (at most 3 decimals: the chain counts Wh). Every flag is validated with zod; a contract
 * revert is decoded to its custom error's name and arguments. `--json` prints one JSON document.
 *
 * This file registers the commands; each group's body lives beside it (funds, orders,
 * certificates, claim, flex) and calls the client's actions (oracle/src/client/), on the shared
 * context.ts, parse.ts and format.ts; results and failures are printed by ../output.ts, as for
 * `registry`.
 */
import type { Command } from "commander";
import { RPC_TIMEOUT_MS_HELP } from "../rpc-probe.js";
import { type Outcome, runCommand } from "../output.js";
import { certificates, retire } from "./certificates.js";
import { claim } from "./claim.js";
import { type Context, type Flags, connect } from "./context.js";
import { flexCancel, flexChange, flexPlace, flexRefund, flexShow, flexWithdraw } from "./flex.js";
import { balance, deposit, withdraw } from "./funds.js";
import { cancel, orders, placeOrder } from "./orders.js";

/** The flags of a flexibility order; `place` requires them all, `change` keeps the current order's for those left out. */
function withFlexOrderFlags(cmd: Command): Command {
  return cmd
    .option("--battery <id>", "battery id (registered, owned by the account)")
    .option("--first-interval <n>", "first interval of the window (its gate must be open)")
    .option("--last-interval <n>", "last interval of the window, inclusive")
    .option("--max-charge-price <p>", "charge only at a zone price <= this, token units per kWh")
    .option("--min-discharge-price <p>", "discharge only at a zone price >= this, token units per kWh")
    .option("--budget <amount>", "token units locked from the wallet to pay for charging")
    .option("--soc-kwh <x>", "the battery's state of charge at the start of the window, kWh (3 decimals)")
    .option("--nonce <n>", "order nonce (default: random)");
}

function withFlexConnection(cmd: Command): Command {
  return withConnection(cmd).option(
    "--flex-market <address>",
    "FlexibilityMarket address (GRIDBRAIN_FLEX_MARKET_ADDRESS; default: the market's flexibilityMarket())",
  );
}

function withConnection(cmd: Command): Command {
  return cmd
    .option("--keystore <file>", "encrypted key of the account (GRIDBRAIN_KEYSTORE_PATH)")
    .option("--password-file <file>", "file holding the keystore password (GRIDBRAIN_KEYSTORE_PASSWORD_FILE)")
    .option("--rpc-url <url>", "JSON-RPC endpoint (GRIDBRAIN_RPC_URL)")
    .option("--rpc-timeout-ms <ms>", RPC_TIMEOUT_MS_HELP)
    .option("--market <address>", "EnergyMarket address (GRIDBRAIN_MARKET_ADDRESS)")
    .option("--from-block <n>", "first block to read events from", "0")
    .option("--json", "print the result as JSON");
}

/** A command on the connection (context.ts); its output and failures go through ../output.ts. */
function run(body: (ctx: Context, positional: readonly string[], flags: Flags) => Promise<Outcome>) {
  return async (...received: unknown[]) => {
    // commander passes the positional arguments, then the options object, then the command.
    const flags = received[received.length - 2] as Flags;
    const positional = received.slice(0, -2) as string[];
    let ctx: Context | undefined;
    await runCommand(
      flags["json"] === true,
      async () => {
        ctx = await connect(flags);
        return body(ctx, positional, flags);
      },
      () => ctx,
    );
  };
}

export function registerProsumerCommands(program: Command): void {
  withConnection(program.command("deposit"))
    .description("move <amount> tokens (decimal, token units) from the wallet into the market")
    .argument("<amount>", 'token units, e.g. "12.5"')
    .option("--no-permit", "use approve + deposit even when the token supports EIP-2612 permit")
    .action(run((ctx, [amount], flags) => deposit(ctx, amount!, flags["permit"] !== false)));

  withConnection(program.command("withdraw"))
    .description("send <amount> of the free market balance back to the wallet")
    .argument("<amount>", 'token units, e.g. "12.5"')
    .option("--to <address>", "recipient (default: the account)")
    .action(run((ctx, [amount], flags) => withdraw(ctx, amount!, flags["to"])));

  for (const side of ["bid", "offer"] as const)
    withConnection(program.command(side))
      .description(
        side === "bid"
          ? "buy energy: locks price × energy and the imbalance collateral until settlement"
          : "sell energy: locks the imbalance collateral per kWh; paid once delivery is settled",
      )
      .option("--interval <n>", "interval id")
      .option("--zone <z>", "zone id")
      .option("--kwh <x>", "energy in kWh (at most 3 decimals)")
      .option("--price <p>", `${side === "bid" ? "maximum" : "minimum"} price per kWh in token units`)
      .option("--nonce <n>", "order nonce (default: random)")
      .option("--dry-run", "only show the order and the lock it would take")
      .action(run((ctx, _args, flags) => placeOrder(ctx, side, flags)));

  withConnection(program.command("cancel"))
    .description("cancel an open order before gate closure (its lock is returned)")
    .argument("<orderId>", "the order id (0x…, 32 bytes)")
    .action(run((ctx, [orderId]) => cancel(ctx, orderId!)));

  withConnection(program.command("orders"))
    .description(
      "the account's orders with their state: open, closed, scheduled, settled (filled), cancelled, released",
    )
    .action(run((ctx) => orders(ctx)));

  withConnection(program.command("balance"))
    .description(
      "free, locked (with the payouts pending delivery) and owed market balances, and the wallet's token balance",
    )
    .action(run((ctx) => balance(ctx)));

  withConnection(program.command("certificates"))
    .description("energy certificates (ERC-1155, 1 unit = 1 Wh) the account holds")
    .action(run((ctx) => certificates(ctx)));

  withConnection(program.command("claim"))
    .description(
      "settle the account's own fill and imbalance of an interval, and the interval's flexibility steps, with proofs from an oracle node (pull settlement)",
    )
    .option("--interval <n>", "interval id")
    .option("--node-url <url>", "an oracle node's HTTP URL, serving the Proof API (GRIDBRAIN_NODE_URL)")
    .option(
      "--only <what>",
      '"fill" (the fills, and the flexibility steps the sell side is paid from), "imbalance" or "steps" (only the flexibility steps, and earlier intervals\' that block them) (default: fill, then the imbalance once it can settle)',
    )
    .action(run((ctx, _args, flags) => claim(ctx, flags)));

  withConnection(program.command("retire"))
    .description("retire <kWh> of certificate <id> for a beneficiary (burns them with a claim)")
    .argument("<id>", "certificate id")
    .argument("<kWh>", "energy in kWh (at most 3 decimals)")
    .option("--beneficiary <address>", "who the claim is made for")
    .option("--claim <text>", "claim data recorded in the event", "")
    .action(run((ctx, [id, kwh], flags) => retire(ctx, id!, kwh!, flags)));

  const flex = program
    .command("flex")
    .description(
      "standing flexibility orders of a battery the account owns: place, change, cancel, show, refund, withdraw",
    );
  withFlexOrderFlags(withFlexConnection(flex.command("place")))
    .description(
      "place a standing order for a window of intervals: price limits to charge and discharge, a charging budget locked once",
    )
    .action(run((ctx, _args, flags) => flexPlace(ctx, flags)));
  withFlexOrderFlags(withFlexConnection(flex.command("change")))
    .description(
      "replace <orderId> from the first open interval; flags left out keep the current order's values (the SoC: the battery's scheduled one)",
    )
    .argument("<orderId>", "the current order's id (0x…, 32 bytes)")
    .action(run((ctx, [orderId], flags) => flexChange(ctx, orderId!, flags)));
  withFlexConnection(flex.command("cancel"))
    .description(
      "end <orderId> after the last interval whose gate has closed (its unspent budget becomes refundable)",
    )
    .argument("<orderId>", "the order id (0x…, 32 bytes)")
    .action(run((ctx, [orderId], flags) => flexCancel(ctx, orderId!, flags)));
  withFlexConnection(flex.command("show"))
    .description(
      "the account's flexibility orders (state, budget spent, scheduled SoC, earnings) and balance; with <orderId>, its settled steps",
    )
    .argument("[orderId]", "one order's id, to list its steps")
    .option("--battery <id>", "only this battery's orders")
    .action(run((ctx, [orderId], flags) => flexShow(ctx, orderId, flags)));
  withFlexConnection(flex.command("refund"))
    .description(
      "return an ended order's unspent budget to the flexibility balance, once its last interval is settled (at once for an order ended before its window)",
    )
    .argument("<orderId>", "the order id (0x…, 32 bytes)")
    .action(run((ctx, [orderId], flags) => flexRefund(ctx, orderId!, flags)));
  withFlexConnection(flex.command("withdraw"))
    .description("send <amount> of the flexibility balance (earnings and refunds) to the wallet")
    .argument("<amount>", 'token units, e.g. "12.5"')
    .option("--to <address>", "recipient (default: the account)")
    .action(run((ctx, [amount], flags) => flexWithdraw(ctx, amount!, flags)));
}
