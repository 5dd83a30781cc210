"""Pure business vocabulary: money, errors, enums and permissions. No Qt, no SQLAlchemy."""
