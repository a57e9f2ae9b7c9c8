/* not_a_plugin.c - a shared object without any connector entry symbol. */
#define TEST_EXPORT __attribute__((visibility("default")))

TEST_EXPORT int not_a_plugin(void);

TEST_EXPORT int not_a_plugin(void)
{
    return 42;
}
