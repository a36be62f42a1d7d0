/**
 * The product's whole messaging topology, as data: every Kafka topic, RabbitMQ queue, message
 * and request/reply operation, with the contract its payload is checked against. The
 * transporters in libs/messaging declare what they consume and publish from this alone; no app
 * declares a queue, an exchange or a binding by hand.
 */
import {
  AccountRpcQueues,
  AccountView,
  BalanceView,
  ChangePasswordRequest,
  CreditRequest,
  Credentials,
  CREDENTIALS_CHANGED_ROUTING_KEY,
  CredentialsChanged,
  GetPurchaseRequest,
  ListPurchasesRequest,
  LoginRequest,
  PlacePurchaseRequest,
  PurchaseOutcomes,
  PurchaseOutcomesRequest,
  PurchasePage,
  PurchaseView,
  RegisterRequest,
  UserRequest,
} from './account/account-rpc';
import {
  ApplyPaymentEventRequest,
  CreateTopUpRequest,
  GetTopUpRequest,
  PaymentEventOutcome,
  TopUpCounts,
  TopUpCountsRequest,
  TopUpView,
} from './account/top-ups';
import { PriceChanged } from './catalog/price-changed.event';
import { broadcastQueue, message, QueueContract, rpc, topic, workQueue } from './descriptors';
import { SendMail } from './mail/send-mail.command';
import { MailerRpcQueues, UnwatchSkuRequest, WatchlistChanged, WatchSkuRequest } from './mailer/mailer-rpc';
import { ConsumerGroups, Exchanges, Queues, Topics } from './names';
import {
  ReservationVoided,
  ReserveStock,
  SagaQueues,
  SagaRoutingKeys,
  StockReservationFailed,
  StockReserved,
  VoidReservation,
} from './purchase/purchase-saga.messages';
import { PurchaseStatusChanged, PurchaseStatusChangedRoutingKey } from './purchase/purchase-status-changed.event';
import { ItemChanged, ItemChangedRoutingKey } from './shop/item-changed.event';
import {
  ChangePriceRequest,
  CreateItemRequest,
  GetItemRequest,
  ItemPage,
  ListItemsRequest,
  PriceChangeAccepted,
  RestockItemRequest,
  ShopItem,
  ShopRpcQueues,
} from './shop/shop-rpc';
import { decodeStockEvent, StockEventMessage } from './stock';

/** Kafka topics. */
export const TopicContracts = {
  /** ingest → process: stock events keyed by store and sku. */
  StockEvents: topic(Topics.StockEvents, StockEventMessage, { partitions: 6, decode: decodeStockEvent }),
  /** shop → api, mailer (each in its own consumer group): one event per price change, keyed by sku. */
  PriceChanged: topic(Topics.PriceChanged, PriceChanged, { partitions: 3 }),
} as const;

/**
 * Every Kafka consumer group of the system and the topic it consumes: what the apps' `@KafkaBatch`
 * handlers declare (`apps/api/src/ops/consumer-groups.spec.ts` checks that they match), and what the
 * operators' view reads the lag of.
 */
export const ConsumerGroupContracts = [
  { group: ConsumerGroups.Process, topic: TopicContracts.StockEvents },
  { group: ConsumerGroups.ApiCatalog, topic: TopicContracts.PriceChanged },
  { group: ConsumerGroups.MailerWatchers, topic: TopicContracts.PriceChanged },
] as const;

/** RabbitMQ queues that carry commands and events (request/reply queues are in the RPC tables below). */
export const QueueContracts = {
  /** The mailer's inbox: a long ladder rides out an SMTP outage (the mailer may set its own, MAIL_RETRY_DELAYS_MS). */
  MailSend: workQueue(Queues.MailSend),
  /** Shop's saga inbox: ReserveStock and VoidReservation; long enough to ride out a Cassandra restart. */
  ShopSaga: workQueue(SagaQueues.Shop, { retryDelaysMs: [500, 2_000, 5_000, 15_000, 30_000, 60_000] }),
  /** Account's saga inbox: shop's answers. */
  AccountSaga: workQueue(SagaQueues.Account, { retryDelaysMs: [500, 2_000, 5_000, 15_000, 30_000, 60_000] }),
  /** One per api instance: catalog cache invalidations. */
  ApiItemChanged: broadcastQueue('api.item-changed'),
  /** One per api instance: credentials versions, so an old token is refused at once everywhere. */
  ApiCredentialsChanged: broadcastQueue('api.credentials-changed'),
  /** One per api instance: purchase status changes, fanned out to the purchase streams and long polls it holds. */
  ApiPurchaseStatusChanged: broadcastQueue('api.purchase-status-changed'),
} as const;

const commerce = (queue: QueueContract) => ({ exchange: Exchanges.Commerce, queue });

/** Commands and events over RabbitMQ. */
export const MessageContracts = {
  /** account, mailer → mailer: send one mail; the message id says what it is about, so it is sent once. */
  SendMail: message(Queues.MailSend, SendMail, { exchange: '', queue: QueueContracts.MailSend }),
  ReserveStock: message(SagaRoutingKeys.ReserveStock, ReserveStock, commerce(QueueContracts.ShopSaga)),
  VoidReservation: message(SagaRoutingKeys.VoidReservation, VoidReservation, commerce(QueueContracts.ShopSaga)),
  StockReserved: message(SagaRoutingKeys.StockReserved, StockReserved, commerce(QueueContracts.AccountSaga)),
  StockReservationFailed: message(SagaRoutingKeys.StockReservationFailed, StockReservationFailed, commerce(QueueContracts.AccountSaga)),
  ReservationVoided: message(SagaRoutingKeys.ReservationVoided, ReservationVoided, commerce(QueueContracts.AccountSaga)),
  /** shop → every api instance. */
  ItemChanged: message(ItemChangedRoutingKey, ItemChanged, commerce(QueueContracts.ApiItemChanged)),
  /** account → every api instance. */
  CredentialsChanged: message(CREDENTIALS_CHANGED_ROUTING_KEY, CredentialsChanged, commerce(QueueContracts.ApiCredentialsChanged)),
  /** account → every api instance: a purchase's status changed (after the write that changed it). */
  PurchaseStatusChanged: message(PurchaseStatusChangedRoutingKey, PurchaseStatusChanged, commerce(QueueContracts.ApiPurchaseStatusChanged)),
} as const;

/** Request/reply operations of account. Errors come back as DomainErrors with the codes in `AccountErrorCodes`. */
export const AccountRpc = {
  /** ACCOUNT.EMAIL_EXISTS (conflict), ACCOUNT.INVALID_EMAIL (invalid). */
  Register: rpc(AccountRpcQueues.Register, RegisterRequest, AccountView),
  /** AUTH.BAD_CREDENTIALS (unauthenticated). */
  Login: rpc(AccountRpcQueues.Login, LoginRequest, Credentials),
  /** ACCOUNT.NOT_FOUND. What the api checks a token against. */
  GetCredentials: rpc(AccountRpcQueues.GetCredentials, UserRequest, Credentials),
  /** ACCOUNT.NOT_FOUND. */
  GetAccount: rpc(AccountRpcQueues.GetAccount, UserRequest, AccountView),
  /** The new credentials version; AUTH.BAD_CREDENTIALS. */
  ChangePassword: rpc(AccountRpcQueues.ChangePassword, ChangePasswordRequest, Credentials),
  /** ACCOUNT.NOT_FOUND. Idempotent per creditId. */
  Credit: rpc(AccountRpcQueues.Credit, CreditRequest, BalanceView),
  /** PENDING; idempotent per purchaseId. */
  PlacePurchase: rpc(AccountRpcQueues.PlacePurchase, PlacePurchaseRequest, PurchaseView),
  /** PURCHASE.NOT_FOUND (also for another user's). */
  GetPurchase: rpc(AccountRpcQueues.GetPurchase, GetPurchaseRequest, PurchaseView),
  /** The long poll: its deliveries are held while they wait, on a queue of their own, so plain reads never wait behind them. */
  WaitPurchase: rpc(AccountRpcQueues.WaitPurchase, GetPurchaseRequest, PurchaseView, { prefetch: 1_000 }),
  /** Newest first; PURCHASE.INVALID_PAGE_TOKEN. */
  ListPurchases: rpc(AccountRpcQueues.ListPurchases, ListPurchasesRequest, PurchasePage),
  /** The count of purchases in each terminal status, for the operators' health. */
  PurchaseOutcomes: rpc(AccountRpcQueues.PurchaseOutcomes, PurchaseOutcomesRequest, PurchaseOutcomes),
  /** PENDING, with the paymentReference the user pays with; idempotent per topUpId. */
  CreateTopUp: rpc(AccountRpcQueues.CreateTopUp, CreateTopUpRequest, TopUpView),
  /** TOP_UP.NOT_FOUND (also for another user's). */
  GetTopUp: rpc(AccountRpcQueues.GetTopUp, GetTopUpRequest, TopUpView),
  /** Answered once durable (a succeeded payment credited); TOP_UP.UNKNOWN_PAYMENT_REFERENCE, TOP_UP.AMOUNT_MISMATCH. */
  ApplyPaymentEvent: rpc(AccountRpcQueues.ApplyPaymentEvent, ApplyPaymentEventRequest, PaymentEventOutcome),
  /** The count of top-ups in each status, for the operators' health. */
  TopUpCounts: rpc(AccountRpcQueues.TopUpCounts, TopUpCountsRequest, TopUpCounts),
} as const;

/** Request/reply operations of shop. Errors come back as DomainErrors with the codes in `ShopErrorCodes`. */
export const ShopRpc = {
  /** ITEM.NOT_FOUND (not_found) for an unknown sku. */
  GetItem: rpc(ShopRpcQueues.GetItem, GetItemRequest, ShopItem),
  /** ITEM.EXISTS (conflict) if the sku exists. */
  CreateItem: rpc(ShopRpcQueues.CreateItem, CreateItemRequest, ShopItem),
  /** ITEM.NOT_FOUND, ITEM.QUANTITY_TOO_LARGE (invalid). */
  RestockItem: rpc(ShopRpcQueues.RestockItem, RestockItemRequest, ShopItem),
  /** ITEM.NOT_FOUND. The PriceChanged event follows through shop's outbox. */
  ChangePrice: rpc(ShopRpcQueues.ChangePrice, ChangePriceRequest, PriceChangeAccepted),
  /** Ordered by the sku's token; ITEM.INVALID_PAGE_TOKEN. */
  ListItems: rpc(ShopRpcQueues.ListItems, ListItemsRequest, ItemPage),
} as const;

/** Request/reply operations of the mailer (the watchlist). */
export const MailerRpc = {
  /** Idempotent: watching twice is watching. */
  Watch: rpc(MailerRpcQueues.Watch, WatchSkuRequest, WatchlistChanged),
  /** Idempotent: unwatching what is not watched is fine. */
  Unwatch: rpc(MailerRpcQueues.Unwatch, UnwatchSkuRequest, WatchlistChanged),
} as const;
