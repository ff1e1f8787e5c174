//! The tables the code uses are the tables the template declares, key for key.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use hiresync_localstack::{repository_template_path, Template};
use hiresync_store::TABLES;

#[test]
fn every_table_the_store_uses_is_declared_in_the_template_with_the_same_keys() {
    let template = Template::load(&repository_template_path()).unwrap();
    for spec in TABLES {
        let table = template
            .table(spec.logical_id)
            .unwrap_or_else(|| panic!("{} is not a table in template.yaml", spec.logical_id));
        assert_eq!(table.key.hash, spec.hash, "{} hash key", spec.logical_id);
        assert_eq!(
            table.key.range.as_deref(),
            spec.range,
            "{} range key",
            spec.logical_id
        );
        assert_eq!(
            table.ttl_attribute.as_deref(),
            spec.ttl_attribute,
            "{} TTL attribute",
            spec.logical_id
        );
        for index in spec.indexes {
            let declared = table
                .indexes
                .iter()
                .find(|i| i.name == index.name)
                .unwrap_or_else(|| panic!("{} has no index {}", spec.logical_id, index.name));
            assert_eq!(declared.key.hash, index.hash);
            assert_eq!(declared.key.range.as_deref(), index.range);
        }
        assert_eq!(
            template.variable_for(spec.logical_id),
            Some(spec.env_var),
            "functions must receive {} as {}",
            spec.logical_id,
            spec.env_var
        );
    }
}
