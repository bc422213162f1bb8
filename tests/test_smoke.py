from aggregator.db import Database, check_schema


def test_migrated_database_passes_the_schema_check(db: Database) -> None:
    check_schema(db)
