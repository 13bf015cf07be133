//! I5: online payments. `payment_accounts` holds each org's connected account with the payment
//! provider; `payments` the attempts (provider intents) Portico opened for invoices, by the
//! provider's id; `provider_events` the ids of the provider's events already applied, so each
//! applies once. Amounts are exact decimal text beside their currency.

use sea_orm_migration::prelude::*;

use super::m20261124_000001_portal::{moment, text};
use super::m20261125_000001_inbox::org_fk;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum PaymentAccounts {
    Table,
    OrgId,
    Account,
}

#[derive(DeriveIden)]
enum Payments {
    Table,
    Intent,
    OrgId,
    InvoiceId,
    Account,
    Amount,
    Currency,
    ClientSecret,
    State,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ProviderEvents {
    Table,
    Id,
    ReceivedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PaymentAccounts::Table)
                    .col(text(PaymentAccounts::OrgId).primary_key())
                    .col(text(PaymentAccounts::Account))
                    .foreign_key(&mut org_fk(PaymentAccounts::Table, PaymentAccounts::OrgId))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Payments::Table)
                    .col(text(Payments::Intent).primary_key())
                    .col(text(Payments::OrgId))
                    .col(text(Payments::InvoiceId))
                    .col(text(Payments::Account))
                    .col(text(Payments::Amount))
                    .col(text(Payments::Currency))
                    .col(text(Payments::ClientSecret))
                    .col(text(Payments::State))
                    .col(moment(Payments::CreatedAt))
                    .col(moment(Payments::UpdatedAt))
                    .foreign_key(&mut org_fk(Payments::Table, Payments::OrgId))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("payments_of_invoice")
                    .table(Payments::Table)
                    .col(Payments::OrgId)
                    .col(Payments::InvoiceId)
                    .col(Payments::CreatedAt)
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ProviderEvents::Table)
                    .col(text(ProviderEvents::Id).primary_key())
                    .col(moment(ProviderEvents::ReceivedAt))
                    .take(),
            )
            .await
    }
}
