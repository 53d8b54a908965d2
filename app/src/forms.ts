/**
 * The forms and buttons: deposit, withdraw, the order form with its lock preview, the battery
 * flexibility form (flex.ts), connect and switch network.
 */
import { orderLock, parseAmount, parseKwh } from "../../oracle/src/client/index.ts";
import { describeError } from "./errors.ts";
import { wireFlexForm } from "./flex.ts";
import { depositAmount, withdrawAmount } from "./funds.ts";
import { placeInZone } from "./orders.ts";
import { act, refresh } from "./refresh.ts";
import { $, fmt, state, status } from "./state.ts";
import { checkNetwork, connect, switchNetwork } from "./wallet.ts";

const field = (form: HTMLFormElement, name: string) => String(new FormData(form).get(name) ?? "").trim();

function updateLockPreview(): void {
  const form = $("order-form") as HTMLFormElement;
  try {
    const side = field(form, "side") === "bid" ? "bid" : "offer";
    const wh = parseKwh(field(form, "kwh"), "Energy");
    const price = parseAmount(field(form, "price"), state.decimals, "Price");
    $("lock-preview").textContent =
      `Lock: ${fmt(orderLock(side, wh, price, state.collateralPerKwh))} (${side === "bid" ? "price × energy + imbalance collateral" : "imbalance collateral; paid after delivery"})`;
  } catch {
    $("lock-preview").textContent = "Lock: –";
  }
}

export function wireForms(): void {
  ($("deposit-form") as HTMLFormElement).onsubmit = (event) => {
    event.preventDefault();
    const text = field(event.target as HTMLFormElement, "amount");
    void act("Deposited", () => depositAmount(parseAmount(text, state.decimals, "Amount")));
  };
  ($("withdraw-form") as HTMLFormElement).onsubmit = (event) => {
    event.preventDefault();
    const text = field(event.target as HTMLFormElement, "amount");
    void act("Withdrawn", () => withdrawAmount(parseAmount(text, state.decimals, "Amount")));
  };
  const orderForm = $("order-form") as HTMLFormElement;
  orderForm.oninput = updateLockPreview;
  orderForm.onsubmit = (event) => {
    event.preventDefault();
    void act("Order placed", () =>
      placeInZone(
        field(orderForm, "side") === "bid" ? "bid" : "offer",
        BigInt(field(orderForm, "interval")),
        parseKwh(field(orderForm, "kwh"), "Energy"),
        parseAmount(field(orderForm, "price"), state.decimals, "Price"),
      ),
    );
  };
  wireFlexForm(act);
  $("connect").onclick = () =>
    void connect()
      .then((connected) => (connected ? refresh() : undefined))
      .catch((error: unknown) => status(describeError(error), "error"));
  $("switch-network").onclick = () =>
    void switchNetwork()
      ?.then(() => checkNetwork())
      .then(() => refresh())
      .catch((error: unknown) => status(describeError(error), "error"));
}
