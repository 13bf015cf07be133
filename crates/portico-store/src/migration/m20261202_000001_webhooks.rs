//! I4: webhooks to the host app. `webhook_endpoints` holds where each org wants to hear of
//! events (the signing key as base64, the event types as a JSON array); `webhook_deliveries`
//! one row per event and endpoint, queued in the transaction of the change it reports and
//! claimed by the dispatcher like the mail outbox (`seq` keeps the order written).

use sea_orm_migration::prelude::*;

use super::m20261124_000001_portal::{moment, moment_null, text};
use super::m20261125_000001_inbox::{org_fk, text_null};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    OrgId,
    Url,
    Events,
    SigningKey,
    Enabled,
    DisabledReason,
    CreatedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Seq,
    Id,
    OrgId,
    EndpointId,
    EventType,
    OccurredAt,
    Data,
    CreatedAt,
    DueAt,
    Attempts,
    State,
    SettledAt,
    Reason,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WebhookEndpoints::Table)
                    .col(
                        ColumnDef::new(WebhookEndpoints::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(text(WebhookEndpoints::OrgId))
                    .col(ColumnDef::new(WebhookEndpoints::Url).text().not_null())
                    .col(ColumnDef::new(WebhookEndpoints::Events).text().not_null())
                    .col(text(WebhookEndpoints::SigningKey))
                    .col(
                        ColumnDef::new(WebhookEndpoints::Enabled)
                            .boolean()
                            .not_null(),
                    )
                    .col(text_null(WebhookEndpoints::DisabledReason))
                    .col(moment(WebhookEndpoints::CreatedAt))
                    .foreign_key(&mut org_fk(
                        WebhookEndpoints::Table,
                        WebhookEndpoints::OrgId,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookDeliveries::Table)
                    .col(
                        ColumnDef::new(WebhookDeliveries::Seq)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(WebhookDeliveries::Id)
                            .uuid()
                            .not_null()
                            .unique_key(),
                    )
                    .col(text(WebhookDeliveries::OrgId))
                    .col(
                        ColumnDef::new(WebhookDeliveries::EndpointId)
                            .uuid()
                            .not_null(),
                    )
                    .col(text(WebhookDeliveries::EventType))
                    .col(moment(WebhookDeliveries::OccurredAt))
                    .col(ColumnDef::new(WebhookDeliveries::Data).text().not_null())
                    .col(moment(WebhookDeliveries::CreatedAt))
                    .col(moment(WebhookDeliveries::DueAt))
                    .col(
                        ColumnDef::new(WebhookDeliveries::Attempts)
                            .integer()
                            .not_null(),
                    )
                    .col(text(WebhookDeliveries::State))
                    .col(moment_null(WebhookDeliveries::SettledAt))
                    .col(ColumnDef::new(WebhookDeliveries::Reason).text().null())
                    .foreign_key(&mut org_fk(
                        WebhookDeliveries::Table,
                        WebhookDeliveries::OrgId,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("webhook_deliveries_due")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::State)
                    .col(WebhookDeliveries::DueAt)
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("webhook_deliveries_of_org")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::OrgId)
                    .col(WebhookDeliveries::Seq)
                    .take(),
            )
            .await
    }
}
