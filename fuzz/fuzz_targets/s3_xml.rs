//! S3's XML request documents (DeleteObjects, CreateBucketConfiguration, VersioningConfiguration…):
//! the reader that turns a body into a tree. Input: the body.
#![no_main]

use kms_workshop_sandbox::services::s3;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = s3::parse_xml(data);
});
