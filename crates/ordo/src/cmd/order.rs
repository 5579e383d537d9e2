//! `ordo order …`: seed 002's pizza orders (`PizzaWorkflow`). `--json` prints machine-readable
//! results on stdout; messages go to stderr.
//! Exit codes: 0 success (placed, delivered, shown), 1 error (or a chaos run with a failed
//! order), 3 the order was rejected.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::Subcommand;
use ordo_orders::chaos::{ChaosOptions, ChaosReport, Launcher};
use ordo_orders::effects::Ledger;
use ordo_orders::model::{parse_order_json, DEFAULT_TASK_QUEUE};
use ordo_orders::stream::{StreamOptions, Tally};
use ordo_orders::{Cheese, Crust, Kitchen, OrderStatus, OrdersClient, PizzaOrderStatus};

use super::input;

/// Options every `order` command shares.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct OrderCommon {
    /// Task queue of the pizza orders.
    #[arg(long, env = "ORDO_ORDERS_TASK_QUEUE", default_value = DEFAULT_TASK_QUEUE, global = true)]
    orders_task_queue: String,
    /// Print JSON on stdout instead of text.
    #[arg(long, global = true)]
    json: bool,
}

/// A new order: flags, or the seed's `PizzaOrderInfo` JSON (flags override its fields).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct PlaceArgs {
    /// The order's id; the workflow id is `<id>--<uuid>` (default `manual-<n>`, as the seed's UI).
    #[arg(long)]
    id: Option<String>,
    /// Crust: a name (CRUST_GARLIC) or number (2).
    #[arg(long)]
    crust: Option<Crust>,
    /// Cheese: a name (CHEESE_ALL) or number (3).
    #[arg(long)]
    cheese: Option<Cheese>,
    /// A topping (repeat for more, at most 20).
    #[arg(long = "topping")]
    toppings: Vec<String>,
    /// The order as JSON (`PizzaOrderInfo`, optionally with Ordo's `kitchen` knobs); `-` for stdin.
    #[arg(long)]
    input: Option<PathBuf>,
    /// Every kitchen step takes this many milliseconds (default: the demo's seconds).
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=120_000))]
    step_ms: Option<u64>,
    /// Wait until the order is delivered or rejected, then show it.
    #[arg(long)]
    wait: bool,
}

/// The order commands.
#[derive(Debug, Subcommand)]
pub(crate) enum OrderCommand {
    /// Place an order (the seed's `/orderPizza`).
    Place {
        #[command(flatten)]
        place: PlaceArgs,
        #[command(flatten)]
        common: OrderCommon,
    },
    /// Show orders' status: one id asks the workflow (falls back to visibility, marked stale);
    /// several ids are answered from one visibility list call.
    Status {
        /// Workflow ids (`<id>--<uuid>`).
        #[arg(required = true)]
        ids: Vec<String>,
        #[command(flatten)]
        common: OrderCommon,
    },
    /// List orders, newest first.
    List {
        /// Only orders with this status (e.g. ORDER_BAKING).
        #[arg(long)]
        status: Option<OrderStatus>,
        /// At most this many.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=1000))]
        limit: u64,
        #[command(flatten)]
        common: OrderCommon,
    },
    /// Cancel a running order (it ends cancelled: neither delivered nor rejected).
    Cancel {
        /// The workflow id.
        id: String,
        /// Why (recorded in the history).
        #[arg(long, default_value = "cancelled with ordo order cancel")]
        reason: String,
        #[command(flatten)]
        common: OrderCommon,
    },
    /// Orders by status, delivered, rejected, failed, order time p50/p99 and throughput (from
    /// visibility).
    Stats {
        #[command(flatten)]
        common: OrderCommon,
    },
    /// Wait for an order to end and show how.
    Wait {
        /// The workflow id.
        id: String,
        #[command(flatten)]
        common: OrderCommon,
    },
    /// Checkpoint 3: place a stream of random orders (`auto-N`), one every 2–6 s as the seed's
    /// app did, or at --rate per second; prints each workflow id, then (with --wait) the tally.
    Stream {
        #[command(flatten)]
        stream: StreamArgs,
        #[command(flatten)]
        common: OrderCommon,
    },
    /// Checkpoint 2: run N `ordo worker --domains orders` processes, SIGKILL a random one every
    /// so often and restart it, with activity failures injected; with --orders, stream that many
    /// orders through the chaos and report how they ended (failed must be 0: exit 1 otherwise).
    Chaos {
        #[command(flatten)]
        chaos: ChaosArgs,
        #[command(flatten)]
        stream: StreamArgs,
        #[command(flatten)]
        common: OrderCommon,
    },
}

/// A stream of orders.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct StreamArgs {
    /// How many orders (default: until Ctrl-C; for chaos, none).
    #[arg(long = "orders", value_parser = clap::value_parser!(u64).range(1..=100_000))]
    count: Option<u64>,
    /// Orders per second (default: one every 2–6 s, the seed's pace); at most 1,000.
    #[arg(long)]
    rate: Option<f64>,
    /// First id number (`auto-<first>`).
    #[arg(long, default_value_t = 0)]
    first: u64,
    /// Every kitchen step of the streamed orders takes this many milliseconds.
    #[arg(long = "stream-step-ms", value_parser = clap::value_parser!(u64).range(0..=120_000))]
    step_ms: Option<u64>,
    /// After placing, wait until every order is over and print the tally.
    #[arg(long)]
    wait: bool,
}

impl StreamArgs {
    fn options(&self) -> StreamOptions {
        StreamOptions {
            count: self.count,
            rate: self.rate,
            first: self.first,
            kitchen: self.step_ms.map(Kitchen::quick),
        }
    }
}

/// The chaos controller's settings.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ChaosArgs {
    /// Worker processes to keep running (1..=16).
    #[arg(long, default_value_t = 3)]
    workers: usize,
    /// Mean milliseconds between SIGKILLs of a random worker (0: never).
    #[arg(long, default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(0..=3_600_000))]
    kill_every_ms: u64,
    /// Milliseconds a killed worker stays down before its replacement starts.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(0..=600_000))]
    restart_after_ms: u64,
    /// Probability (0..=1) that any kitchen step fails retryably, on any attempt.
    #[arg(long, default_value_t = 0.3, value_parser = ordo_orders::domain::parse_rate)]
    failure_rate: f64,
    /// Stop after this many seconds when no --orders are given (default: Ctrl-C).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    duration_s: Option<u64>,
}

/// How a chaos run went.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ChaosOutcome {
    chaos: ChaosReport,
    #[serde(skip_serializing_if = "Option::is_none")]
    orders: Option<Tally>,
}

pub(crate) async fn run(temporal: ordo_core::TemporalArgs, command: OrderCommand) -> anyhow::Result<ExitCode> {
    let common = match &command {
        OrderCommand::Place { common, .. }
        | OrderCommand::Status { common, .. }
        | OrderCommand::List { common, .. }
        | OrderCommand::Wait { common, .. }
        | OrderCommand::Cancel { common, .. }
        | OrderCommand::Stats { common }
        | OrderCommand::Stream { common, .. }
        | OrderCommand::Chaos { common, .. } => common.clone(),
    };
    let client = ordo_core::connect(&temporal).await?;
    let orders = OrdersClient::new(client.clone(), common.orders_task_queue.clone());
    match command {
        OrderCommand::Place { place, common } => {
            let mut object = input::read_object(place.input.as_deref())?;
            if let Some(id) = place.id {
                object.insert("id".into(), id.into());
            }
            if !object.contains_key("id") {
                object.insert("id".into(), format!("manual-{}", fastrand_like()).into());
            }
            if let Some(crust) = place.crust {
                object.insert("crust".into(), crust.as_str().into());
            }
            if let Some(cheese) = place.cheese {
                object.insert("cheese".into(), cheese.as_str().into());
            }
            if !place.toppings.is_empty() {
                object.insert("toppings".into(), place.toppings.into());
            }
            let request = parse_order_json(&serde_json::Value::Object(object))?;
            let kitchen = request.kitchen.or(place.step_ms.map(Kitchen::quick));
            ensure_search_attribute(&client, &temporal.namespace).await?;
            let placed = orders.place(&request.order, kitchen).await?;
            if !place.wait {
                print_status(&placed, common.json)?;
                return Ok(ExitCode::SUCCESS);
            }
            eprintln!("order {} placed; waiting", placed.order.id);
            let end = orders.wait(&placed.order.id).await?;
            print_status(&end, common.json)?;
            Ok(exit_of(&end))
        }
        OrderCommand::Status { ids, common } => {
            if let [id] = ids.as_slice() {
                let view = orders.status(id).await?;
                if common.json {
                    println!("{}", serde_json::to_string_pretty(&view)?);
                } else {
                    let stale =
                        if view.stale { " (stale: no worker answered; last status from visibility)" } else { "" };
                    println!("{}\t{}\t{}{stale}", view.workflow_id, view.status.status, view.execution_status);
                    if let Some(reason) = &view.status.reason {
                        println!("reason: {reason}");
                    }
                }
                return Ok(ExitCode::SUCCESS);
            }
            let rows = orders.batch_status(&ids).await?;
            if common.json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                for row in rows {
                    let status = row.status.map_or("not found", OrderStatus::as_str);
                    println!("{}\t{status}\t{}", row.workflow_id, row.execution_status.unwrap_or_default());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        OrderCommand::List { status, limit, common } => {
            let rows = orders.list(status, usize::try_from(limit).unwrap_or(50)).await?;
            if common.json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                for row in rows {
                    let status = row.status.map_or("-", OrderStatus::as_str);
                    println!("{}\t{status}\t{}", row.workflow_id, row.started_at.unwrap_or_default());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        OrderCommand::Cancel { id, reason, common: _ } => {
            if reason.chars().count() > 500 {
                return Err(ordo_core::RequestError::new("reason", "at most 500 characters").into());
            }
            orders.cancel(&id, &reason).await?;
            eprintln!("order {id}: cancellation requested");
            Ok(ExitCode::SUCCESS)
        }
        OrderCommand::Stats { common } => {
            let stats = orders.stats().await?;
            print_json_or(&stats, common.json, |s| {
                let mut text: Vec<String> = s.by_status.iter().map(|(k, v)| format!("{k}\t{v}")).collect();
                text.push(format!(
                    "running {} delivered {} rejected {} failed {} p50 {:?} ms p99 {:?} ms",
                    s.running, s.delivered, s.rejected, s.failed, s.p50_ms, s.p99_ms
                ));
                text.join("\n")
            })?;
            Ok(ExitCode::SUCCESS)
        }
        OrderCommand::Stream { stream, common } => {
            ensure_search_attribute(&client, &temporal.namespace).await?;
            let (ids, placed) = place_stream(&orders, &stream, super::worker::shutdown_signal()).await?;
            eprintln!("{placed} orders placed");
            if stream.wait {
                let tally = settle(&orders, &ids).await?;
                print_json_or(&tally, common.json, |t| format!("{t:?}"))?;
                return Ok(if tally.failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE });
            }
            Ok(ExitCode::SUCCESS)
        }
        OrderCommand::Chaos { chaos, stream, common } => {
            ensure_search_attribute(&client, &temporal.namespace).await?;
            let options = ChaosOptions {
                workers: chaos.workers,
                kill_every: (chaos.kill_every_ms > 0).then(|| Duration::from_millis(chaos.kill_every_ms)),
                restart_after: Duration::from_millis(chaos.restart_after_ms),
                failure_rate: chaos.failure_rate,
            };
            options.check()?;
            let launcher = worker_launcher(&temporal, &common.orders_task_queue, None)?;
            let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
            let launch = |rate: f64| launcher.launch(rate);
            let controller = ordo_orders::chaos::run(&options, launch, |_| {}, async {
                let _ = stop_rx.await;
            });
            let driver = async {
                let result = if stream.count.is_some() {
                    let (ids, placed) = place_stream(&orders, &stream, std::future::pending()).await?;
                    eprintln!("{placed} orders placed; waiting for every one to end");
                    settle(&orders, &ids).await.map(Some)
                } else {
                    let wait = chaos.duration_s.map_or(Duration::MAX, Duration::from_secs);
                    tokio::select! {
                        () = super::worker::shutdown_signal() => {}
                        () = tokio::time::sleep(wait) => {}
                    }
                    Ok(None)
                };
                let _ = stop_tx.send(());
                result
            };
            let (report, tally) = tokio::join!(controller, driver);
            let outcome = ChaosOutcome { chaos: report?, orders: tally? };
            print_json_or(&outcome, common.json, |o| format!("{o:?}"))?;
            let failed = outcome.orders.as_ref().is_some_and(|t| t.failed > 0 || !t.settled());
            Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
        }
        OrderCommand::Wait { id, common } => {
            let end = tokio::time::timeout(Duration::from_secs(24 * 3600), orders.wait(&id))
                .await
                .context("waiting a day")??;
            print_status(&end, common.json)?;
            Ok(exit_of(&end))
        }
    }
}

/// How a chaos controller in this process starts `ordo worker --domains orders` processes on
/// `queue`, connected as `temporal` says; with `data_dir`, they keep their effects ledger (and
/// count injected failures) under it, else under their default data dir.
pub(crate) fn worker_launcher(
    temporal: &ordo_core::TemporalArgs,
    queue: &str,
    data_dir: Option<&std::path::Path>,
) -> anyhow::Result<Launcher> {
    let exe = std::env::current_exe().context("finding the ordo binary")?;
    let (temporal, queue, dir) = (temporal.clone(), queue.to_owned(), data_dir.map(std::path::Path::to_path_buf));
    let ledger = dir.as_deref().map(|dir| Ledger::new(ordo_orders::domain::ledger_dir(dir)));
    let launch = move |rate: f64| {
        // Bound to this process: a controller that dies takes its workers with it.
        let mut command = tokio::process::Command::from(ordo_core::devserver::bound_command(&exe));
        command
            .args(["worker", "--domains", "orders"])
            .env("ORDO_ORDERS_TASK_QUEUE", &queue)
            .env("ORDO_ORDERS_FAILURE_RATE", rate.to_string())
            .env("TEMPORAL_NAMESPACE", &temporal.namespace)
            // A metrics port inherited from the host would clash with the host's and each other's.
            .env_remove("ORDO_METRICS_ADDR")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true);
        if let Some(address) = &temporal.address {
            command.env("TEMPORAL_ADDRESS", address);
        }
        if let Some(dir) = &dir {
            command.env("ORDO_DATA_DIR", dir);
        }
        command.spawn()
    };
    Ok(Launcher::new(launch, ledger))
}

/// Streams orders, printing each workflow id on stdout; the ids and how many were placed.
async fn place_stream(
    orders: &OrdersClient,
    stream: &StreamArgs,
    stop: impl std::future::Future<Output = ()>,
) -> anyhow::Result<(Vec<String>, u64)> {
    let mut ids = Vec::new();
    let placed = ordo_orders::stream::run(
        orders,
        &stream.options(),
        |status| {
            println!("{}", status.order.id);
            ids.push(status.order.id);
        },
        stop,
    )
    .await?;
    Ok((ids, placed))
}

/// Waits (up to an hour) until every order in `ids` is over.
async fn settle(orders: &OrdersClient, ids: &[String]) -> anyhow::Result<Tally> {
    Ok(ordo_orders::stream::settle(orders, ids, Duration::from_millis(500), Duration::from_secs(3_600)).await?)
}

/// Orders need their search attribute before they start.
async fn ensure_search_attribute(client: &temporalio_client::Client, namespace: &str) -> anyhow::Result<()> {
    ordo_core::search_attributes::ensure(client, namespace, ordo_orders::SEARCH_ATTRIBUTES, true).await?;
    Ok(())
}

fn print_json_or<T: serde::Serialize>(value: &T, json: bool, text: impl Fn(&T) -> String) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(value)?);
    } else {
        println!("{}", text(value));
    }
    Ok(())
}

fn print_status(status: &PizzaOrderStatus, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(status)?);
    } else {
        println!("{}\t{}", status.order.id, status.status);
        if let Some(reason) = &status.reason {
            println!("reason: {reason}");
        }
    }
    Ok(())
}

fn exit_of(end: &PizzaOrderStatus) -> ExitCode {
    if end.status == OrderStatus::Rejected {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    }
}

/// The seed UI's `manual-<0..999>`.
fn fastrand_like() -> u16 {
    u16::try_from(uuid::Uuid::new_v4().as_u128() % 1000).unwrap_or(0)
}
