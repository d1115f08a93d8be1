"""The practice's registered population: vocabulary (ethnicity, age bands, sex) and file readers."""
