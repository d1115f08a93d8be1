"""The practice's registered population: vocabulary (ethnicity, age bands, sex), file readers, and the stored,
dated profiles (tables, services, HTTP) that the representativeness check compares members with."""
