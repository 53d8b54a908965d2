/** Balances and moving tokens: deposit (permit, falling back to approve) and withdraw, through the client's actions. */
import { deposit, readBalances, withdraw } from "../../oracle/src/client/index.ts";
import { $, fmt, market, reader, state } from "./state.ts";
import { writeClients } from "./wallet.ts";

export async function depositAmount(amount: bigint): Promise<void> {
  await deposit(await writeClients(), { market, amount });
}

export async function withdrawAmount(amount: bigint): Promise<void> {
  await withdraw(await writeClients(), { market, amount });
}

/** Shows the account's free, locked (with pending payouts), owed and wallet balances. */
export async function showBalances(): Promise<void> {
  if (state.account === undefined) return;
  const b = await readBalances(reader, { market, account: state.account });
  $("free").textContent = fmt(b.free);
  $("locked").textContent = fmt(b.locked);
  $("pending-payouts").textContent = fmt(b.pendingPayouts);
  $("owed").textContent = fmt(b.owed);
  $("wallet-balance").textContent = fmt(b.wallet);
}
