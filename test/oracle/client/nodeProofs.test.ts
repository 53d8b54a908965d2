/**
 * client/nodeProofs.ts against a real Proof API server (infra/http.ts) serving a real chain's
 * interval: a fill proof that verifies against the committed root, the participant's own meter
 * leaf on a signed request, and the node's refusals as ClientErrors with its reason.
 */
import { expect } from "chai";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { ClientError, getFillProof, getMeterProof } from "../../../oracle/src/client/index.js";
import { FILL_LEAF_ENCODING } from "../../../oracle/src/domain/schedule.js";
import { CHAIN_ID, type ClientChain, type TradedInterval, clientChain, tradedInterval } from "./chain.js";

describe("getFillProof / getMeterProof", function () {
  this.timeout(180_000);
  let chain: ClientChain;
  let t: TradedInterval;
  before(async () => {
    chain = await clientChain();
    t = await tradedInterval(chain);
  });
  after(() => t?.close());

  it("returns a fill leaf whose proof verifies against the served root", async () => {
    const p = await getFillProof({ nodeUrl: t.nodeUrl, intervalId: t.intervalId, orderId: t.offer.orderId });
    expect(p.leaf.order.owner).to.equal(t.seller.walletClient.account.address);
    expect(
      StandardMerkleTree.verify(
        p.scheduleRoot,
        [...FILL_LEAF_ENCODING],
        [t.offer.orderId, BigInt(p.leaf.filledWh)],
        p.proof,
      ),
    ).to.equal(true);
  });

  it("returns the wallet account's own meter leaf on its signed request", async () => {
    const p = await getMeterProof(t.buyer.walletClient, {
      nodeUrl: t.nodeUrl,
      market: chain.market,
      chainId: CHAIN_ID,
      intervalId: t.intervalId,
    });
    expect(p.leaf).to.deep.equal({
      participant: t.buyer.walletClient.account.address,
      injectedWh: "0",
      consumedWh: "2000",
    });
  });

  it("turns the node's 404 for an unknown order into ProofUnavailable with the node's reason", async () => {
    const orderId = `0x${"cd".repeat(32)}` as const;
    const error = await getFillProof({ nodeUrl: t.nodeUrl, intervalId: t.intervalId, orderId }).catch(
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(ClientError);
    expect((error as ClientError).errorName).to.equal("ProofUnavailable");
    expect((error as ClientError).message).to.equal(
      `node ${t.nodeUrl} answered 404: orderId: ${orderId} has no fill leaf in interval ${t.intervalId}`,
    );
  });

  it("turns an expired signed request's 401 into ProofUnavailable", async () => {
    const error = await getMeterProof(t.buyer.walletClient, {
      nodeUrl: t.nodeUrl,
      market: chain.market,
      chainId: CHAIN_ID,
      intervalId: t.intervalId,
      expiry: 1n,
    }).catch((e: unknown) => e);
    expect((error as ClientError).errorName).to.equal("ProofUnavailable");
    expect((error as ClientError).message).to.contain("answered 401");
  });
});
