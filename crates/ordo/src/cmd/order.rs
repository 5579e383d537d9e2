//! `ordo order …`: seed 002's pizza orders (`PizzaWorkflow`). `--json` prints machine-readable
//! results on stdout; messages go to stderr.
//! Exit codes: 0 success (placed, delivered, shown), 1 error, 3 the order was rejected.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::Subcommand;
use ordo_orders::model::{parse_order_json, DEFAULT_TASK_QUEUE};
use ordo_orders::workflows::quick_kitchen;
use ordo_orders::{Cheese, Crust, OrderStatus, OrdersClient, PizzaOrderStatus};

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
    /// Wait for an order to end and show how.
    Wait {
        /// The workflow id.
        id: String,
        #[command(flatten)]
        common: OrderCommon,
    },
}

pub(crate) async fn run(temporal: ordo_core::TemporalArgs, command: OrderCommand) -> anyhow::Result<ExitCode> {
    let common = match &command {
        OrderCommand::Place { common, .. }
        | OrderCommand::Status { common, .. }
        | OrderCommand::List { common, .. }
        | OrderCommand::Wait { common, .. } => common.clone(),
    };
    let client = ordo_core::connect(&temporal).await?;
    let orders = OrdersClient::new(client, common.orders_task_queue.clone());
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
            let kitchen = request.kitchen.or(place.step_ms.map(quick_kitchen));
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
        OrderCommand::Wait { id, common } => {
            let end = tokio::time::timeout(Duration::from_secs(24 * 3600), orders.wait(&id))
                .await
                .context("waiting a day")??;
            print_status(&end, common.json)?;
            Ok(exit_of(&end))
        }
    }
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
