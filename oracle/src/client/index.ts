/**
 * The GridBrain client: one typed module for everything a prosumer's program does with the
 * contracts and an oracle node, in viem's style — each action is a function taking a viem client
 * (a public client to read; a public and a wallet client to send) and one parameters object, in a
 * file of its own. The CLI's prosumer commands, the web app and the demo use it; docs/INTEGRATING.md
 * shows it in use.
 */
export { type AccountWalletClient, type ContractCall, type WriteClients, sendContract } from "./clients.js";
export {
  ClientError,
  type DecodedError,
  InvalidParameterError,
  type TokenUnits,
  decodeError,
  errorAbi,
  explainError,
  isUserRejection,
} from "./errors.js";
export {
  KWH_DECIMALS,
  certificateId,
  certificateOf,
  costRoundedDown,
  costRoundedUp,
  intervalIdAt,
  orderLock,
  parseAmount,
  parseKwh,
  parsePositiveAmount,
  randomOrderNonce,
  sourceLabel,
  type EnergySource,
} from "./units.js";
export { type ReadMarketParameters, type ReadMarketReturnType, readMarket } from "./readMarket.js";
export { type DepositParameters, type DepositReturnType, PERMIT_TTL_SECONDS, deposit } from "./deposit.js";
export { type WithdrawParameters, type WithdrawReturnType, withdraw } from "./withdraw.js";
export {
  type PlaceOrderParameters,
  type PlaceOrderReturnType,
  type PlaceSideParameters,
  placeBid,
  placeOffer,
  placeOrder,
} from "./placeOrder.js";
export {
  type CancelOrderParameters,
  type CancelOrderReturnType,
  cancelOrder,
  readPlacedOrder,
} from "./cancelOrder.js";
export {
  type OrderFacts,
  type OrderRecord,
  type OrderState,
  type ReadOrdersParameters,
  type ReadOrdersReturnType,
  orderState,
  readOrders,
} from "./readOrders.js";
export {
  POSITION_STATUSES,
  type PositionStatus,
  type ReadPositionParameters,
  type ReadPositionReturnType,
  readPosition,
} from "./readPosition.js";
export { type ReadBalancesParameters, type ReadBalancesReturnType, readBalances } from "./readBalances.js";
export {
  type FillProof,
  type GetFillProofParameters,
  type GetMeterProofParameters,
  type GetScheduleLeavesParameters,
  type MeterProof,
  PROOF_REQUEST_TTL_SECONDS,
  type ScheduleLeaves,
  getFillProof,
  getMeterProof,
  getScheduleLeaves,
} from "./nodeProofs.js";
export { type ClaimFillParameters, type ClaimFillReturnType, claimFill } from "./claimFill.js";
export {
  type FlexIntervalOutcome,
  type SettleFlexStepsParameters,
  type SettleFlexStepsReturnType,
  settleFlexSteps,
} from "./settleFlexSteps.js";
export {
  type SettleImbalanceParameters,
  type SettleImbalanceReturnType,
  settleImbalance,
} from "./settleImbalance.js";
export {
  type CertificateHolding,
  type ReadCertificatesParameters,
  type ReadCertificatesReturnType,
  readCertificates,
} from "./readCertificates.js";
export {
  type RetireCertificateParameters,
  type RetireCertificateReturnType,
  retireCertificate,
} from "./retireCertificate.js";
export {
  type ClaimCertificatesParameters,
  type ClaimCertificatesReturnType,
  claimCertificates,
} from "./claimCertificates.js";
export {
  type FlexDirection,
  type FlexOrder,
  type FlexTarget,
  checkFlexOrderId,
  readPlacedFlexOrder,
  resolveFlexMarket,
} from "./flexMarket.js";
export {
  type ValidateFlexOrderParameters,
  type ValidateFlexOrderReturnType,
  validateFlexOrder,
} from "./validateFlexOrder.js";
export {
  type FlexOrderFields,
  type PlaceFlexOrderParameters,
  type PlaceFlexOrderReturnType,
  flexOrderOf,
  placeFlexOrder,
} from "./placeFlexOrder.js";
export {
  type ChangeFlexOrderParameters,
  type ChangeFlexOrderReturnType,
  changeFlexOrder,
} from "./changeFlexOrder.js";
export {
  type CancelFlexOrderParameters,
  type CancelFlexOrderReturnType,
  cancelFlexOrder,
} from "./cancelFlexOrder.js";
export {
  type RefundFlexFundsParameters,
  type RefundFlexFundsReturnType,
  refundFlexFunds,
} from "./refundFlexFunds.js";
export {
  type ReadFlexBalanceParameters,
  type ReadFlexBalanceReturnType,
  readFlexBalance,
} from "./readFlexBalance.js";
export { type WithdrawFlexParameters, type WithdrawFlexReturnType, withdrawFlex } from "./withdrawFlex.js";
export {
  type FlexOrderFacts,
  type FlexOrderRecord,
  type FlexOrderStatus,
  type ReadFlexOrdersParameters,
  type ReadFlexOrdersReturnType,
  flexOrderStatus,
  readFlexOrders,
} from "./readFlexOrders.js";
export {
  type FlexEarnings,
  type FlexStepRecord,
  type ReadFlexStepsParameters,
  type ReadFlexStepsReturnType,
  flexEarnings,
  readFlexSteps,
} from "./readFlexSteps.js";
export {
  type Order,
  type OrderSide,
  Side,
  flexOrderId,
  flexibilityDomain,
  gridBrainDomain,
  hashOrder,
  orderSide,
  sideCode,
} from "../domain/eip712.js";
