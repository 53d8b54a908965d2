/**
 * The gas the chain spent: every block mined since a cursor, each block counted once.
 */
import type { DemoChain } from "./world.js";

/** Gas of blocks `fromBlock` … latest, and the block the next count starts at. */
export async function gasSince(
  chain: DemoChain,
  fromBlock: bigint,
): Promise<{ gasUsed: bigint; nextBlock: bigint }> {
  let gasUsed = 0n;
  const lastBlock = await chain.publicClient.getBlockNumber();
  const blockNumbers: bigint[] = [];
  for (let n = fromBlock; n <= lastBlock; n++) blockNumbers.push(n);
  for (const block of await Promise.all(
    blockNumbers.map((blockNumber) => chain.publicClient.getBlock({ blockNumber })),
  ))
    gasUsed += block.gasUsed;
  return { gasUsed, nextBlock: lastBlock + 1n };
}
