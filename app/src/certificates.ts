/** The account's energy certificates (client `readCertificates`) with a Retire… button (client `retireCertificate`). */
import { type Address, formatUnits, getAddress } from "viem";
import { parseKwh, readCertificates, retireCertificate } from "../../oracle/src/client/index.ts";
import { $, buttonCell, market, reader, row } from "./state.ts";
import { writeClients } from "./wallet.ts";

export async function showCertificates(
  account: Address,
  act: (done: string, work: () => Promise<void>) => Promise<void>,
): Promise<void> {
  const { held } = await readCertificates(reader, { market, account });
  $("cert-rows").replaceChildren(
    ...held.map((c) => {
      const tr = row([String(c.id), String(c.intervalId), c.source, formatUnits(c.amountWh, 3)]);
      tr.append(
        buttonCell(
          "Retire…",
          c.amountWh > 0n
            ? () => {
                const kwh = window.prompt("kWh to retire", formatUnits(c.amountWh, 3));
                const beneficiary = kwh === null ? null : window.prompt("Beneficiary address", account);
                if (kwh === null || beneficiary === null) return;
                void act("Retired", async () => {
                  await retireCertificate(await writeClients(), {
                    market,
                    id: c.id,
                    amountWh: parseKwh(kwh.trim(), "kWh"),
                    beneficiary: getAddress(beneficiary.trim()),
                  });
                });
              }
            : undefined,
        ),
      );
      return tr;
    }),
  );
}
