use super::Db;
pub async fn generate(_db: &Db, _c: usize, _a: usize, _b: usize) -> anyhow::Result<String> {
    anyhow::bail!("not yet")
}
