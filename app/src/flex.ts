/**
 * The "Battery flexibility" panel: the batteries the account owns (from the registry), a form to
 * place a standing flexibility order or change one, and the account's orders with their state,
 * budget spent, the battery's scheduled state of charge and what each earned, with Change, Cancel
 * and Refund buttons. Every call goes through the client (placeFlexOrder, changeFlexOrder,
 * cancelFlexOrder, refundFlexFunds, readFlexOrders), whose checks name the field before anything
 * is signed.
 */
import { type Address, formatUnits } from "viem";
import { flexibilityMarketAbi, gridRegistryAbi } from "../../oracle/src/chain/abis.ts";
import {
  type FlexOrderFields,
  type FlexOrderRecord,
  cancelFlexOrder,
  changeFlexOrder,
  parseAmount,
  parseKwh,
  placeFlexOrder,
  readFlexBalance,
  readFlexOrders,
  refundFlexFunds,
  resolveFlexMarket,
} from "../../oracle/src/client/index.ts";
import { describeError } from "./errors.ts";
import { $, buttonCell, flexTarget, fmt, reader, row, settings, state, status } from "./state.ts";
import { writeClients } from "./wallet.ts";

type Act = (done: string, work: () => Promise<void>) => Promise<void>;

/** The orders last listed, by id: Change fills the form from them. */
const listed = new Map<string, FlexOrderRecord>();
/** The order the form replaces, or undefined when it places a new one. */
let replacing: FlexOrderRecord | undefined;

/** Ids of the registered batteries `account` owns. */
async function ownedBatteries(account: Address): Promise<number[]> {
  if (settings.registry === "") return [];
  const registry = { address: settings.registry as Address, abi: gridRegistryAbi } as const;
  const count = await reader.readContract({ ...registry, functionName: "batteryCount" });
  const batteries = await Promise.all(
    Array.from({ length: count }, (_, id) =>
      reader.readContract({ ...registry, functionName: "battery", args: [id] }),
    ),
  );
  return batteries.flatMap((b, id) => (b.owner.toLowerCase() === account.toLowerCase() ? [id] : []));
}

function statusText(o: FlexOrderRecord): string {
  if (o.status === "refundable") return `ended: ${fmt(o.unspent)} refundable`;
  if (o.status === "active" && o.endedEarly) return `active through ${o.endInterval}`;
  return o.status;
}

/**
 * Redraws the panel: owned batteries, the flexibility balance and the account's orders. A market
 * without a flexibility market (an older deployment) leaves the panel saying so and the rest of
 * the app working.
 */
export async function showFlex(account: Address, act: Act): Promise<void> {
  try {
    await drawFlex(account, act);
  } catch (error) {
    $("flex-none").textContent = `Battery flexibility unavailable: ${describeError(error)}`;
    $("flex-none").hidden = false;
  }
}

async function drawFlex(account: Address, act: Act): Promise<void> {
  const [batteries, orders, balance] = await Promise.all([
    ownedBatteries(account),
    readFlexOrders(reader, { ...flexTarget, owner: account }),
    readFlexBalance(reader, { ...flexTarget, account }),
  ]);
  const select = $("flex-battery") as HTMLSelectElement;
  const chosen = select.value;
  select.replaceChildren(...batteries.map((id) => new Option(`battery ${id}`, String(id))));
  if (chosen !== "") select.value = chosen;
  $("flex-none").textContent = "No battery registered to this account.";
  $("flex-none").hidden = batteries.length > 0;
  $("flex-balance").textContent = fmt(balance);
  listed.clear();
  $("flex-rows").replaceChildren(
    ...orders.reverse().map((o) => {
      listed.set(o.orderId, o);
      const tr = row([
        String(o.order.batteryId),
        `${o.order.firstInterval}–${o.order.lastInterval}`,
        fmt(o.order.maxChargePricePerKwh),
        fmt(o.order.minDischargePricePerKwh),
        `${fmt(o.order.chargeBudget)} (spent ${fmt(o.spent)})`,
        statusText(o),
        o.scheduledSocWh === null ? "–" : `${formatUnits(o.scheduledSocWh, 3)} kWh after ${o.socInterval}`,
        fmt(o.earned),
      ]);
      const active = o.status === "active";
      tr.append(
        buttonCell(
          "Change",
          active
            ? () => void startChange(o).catch((error: unknown) => status(describeError(error), "error"))
            : undefined,
        ),
        buttonCell(
          "Cancel",
          active
            ? () =>
                void act("Flexibility order cancelled", async () => {
                  await cancelFlexOrder(await writeClients(), { ...flexTarget, order: o.order });
                })
            : undefined,
        ),
        buttonCell(
          "Refund",
          o.status === "refundable"
            ? () =>
                void act("Budget refunded to the flexibility balance", async () => {
                  await refundFlexFunds(await writeClients(), { ...flexTarget, order: o.order });
                })
            : undefined,
        ),
      );
      return tr;
    }),
  );
}

/**
 * Fills the form with `o`'s values and turns it into a change of `o`; the window starts at the
 * first open interval at the earliest (a change takes effect from there).
 */
async function startChange(o: FlexOrderRecord): Promise<void> {
  const flexMarket = await resolveFlexMarket(reader, flexTarget);
  const firstOpen = await reader.readContract({
    address: flexMarket,
    abi: flexibilityMarketAbi,
    functionName: "firstOpenInterval",
  });
  replacing = o;
  const form = $("flex-form") as HTMLFormElement;
  const set = (name: string, value: string) =>
    ((form.elements.namedItem(name) as HTMLInputElement).value = value);
  ($("flex-battery") as HTMLSelectElement).value = String(o.order.batteryId);
  set("first", String(o.order.firstInterval > firstOpen ? o.order.firstInterval : firstOpen));
  set("last", String(o.order.lastInterval));
  set("maxCharge", formatUnits(o.order.maxChargePricePerKwh, state.decimals));
  set("minDischarge", formatUnits(o.order.minDischargePricePerKwh, state.decimals));
  set("budget", formatUnits(o.order.chargeBudget, state.decimals));
  set("soc", formatUnits(o.scheduledSocWh ?? o.order.initialSocWh, 3));
  showMode();
}

function showMode(): void {
  $("flex-mode").textContent =
    replacing === undefined
      ? "New order"
      : `Changing ${replacing.orderId.slice(0, 10)}… from the first open interval`;
  $("flex-submit").textContent = replacing === undefined ? "Lock budget and place" : "Lock budget and change";
  $("flex-new").hidden = replacing === undefined;
}

/** The form's order, parsed exactly (a bad value names its field). */
function formOrder(form: HTMLFormElement): FlexOrderFields {
  const field = (name: string) => String(new FormData(form).get(name) ?? "").trim();
  const integer = (name: string, label: string) => {
    const text = field(name);
    if (!/^\d+$/.test(text)) throw new Error(`${label}: must be a non-negative integer, got "${text}"`);
    return BigInt(text);
  };
  return {
    batteryId: Number(integer("battery", "Battery")),
    firstInterval: integer("first", "First interval"),
    lastInterval: integer("last", "Last interval"),
    maxChargePricePerKwh: parseAmount(field("maxCharge"), state.decimals, "Max charge price"),
    minDischargePricePerKwh: parseAmount(field("minDischarge"), state.decimals, "Min discharge price"),
    chargeBudget: parseAmount(field("budget"), state.decimals, "Charge budget"),
    initialSocWh: parseKwh(field("soc"), "State of charge"),
  };
}

export function wireFlexForm(act: Act): void {
  const form = $("flex-form") as HTMLFormElement;
  form.onsubmit = (event) => {
    event.preventDefault();
    const current = replacing;
    void act(current === undefined ? "Flexibility order placed" : "Flexibility order changed", async () => {
      const fields = formOrder(form);
      if (current === undefined) await placeFlexOrder(await writeClients(), { ...flexTarget, ...fields });
      else
        await changeFlexOrder(await writeClients(), {
          ...flexTarget,
          current: current.order,
          replacement: fields,
        });
      replacing = undefined;
      showMode();
    });
  };
  $("flex-new").onclick = () => {
    replacing = undefined;
    showMode();
  };
  showMode();
}
