<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>DemoAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms.py" line="118"/>
        <source>Build demo district</source>
        <translation>生成示范片区</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="121"/>
        <source>Builds the synthetic demo district (buildings, roads, pipelines, trees, parking, DEM) as a Renewal Planner project in the output folder.</source>
        <translation>在输出文件夹中生成合成示范片区（建筑、道路、管线、树木、停车、DEM），作为一个城市更新规划助手项目。</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="125"/>
        <source>Output folder</source>
        <translation>输出文件夹</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="127"/>
        <source>Random seed</source>
        <translation>随机种子</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="130"/>
        <source>Project GeoPackage</source>
        <translation>项目 GeoPackage</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="139"/>
        <source>No output folder given</source>
        <translation>未指定输出文件夹</translation>
    </message>
</context>
<context>
    <name>InitAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms.py" line="66"/>
        <source>Create project</source>
        <translation>创建项目</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="69"/>
        <source>Creates an empty Renewal Planner project GeoPackage with every layer, code list, style and form. The CRS must be projected in metres (CGCS2000 / 3-degree Gauss-Kruger, e.g. EPSG:4547). An existing file is never overwritten.</source>
        <translation>创建一个空的城市更新规划助手项目 GeoPackage，包含全部图层、代码表、样式和表单。坐标系必须是以米为单位的投影坐标系（CGCS2000 / 3 度带高斯-克吕格，例如 EPSG:4547）。不会覆盖已有文件。</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="75"/>
        <source>Project GeoPackage</source>
        <translation>项目 GeoPackage</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="75"/>
        <source>GeoPackage (*.gpkg)</source>
        <translation>GeoPackage (*.gpkg)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="79"/>
        <source>Coordinate reference system</source>
        <translation>坐标参考系</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="94"/>
        <source>Invalid CRS: {0}</source>
        <translation>无效的坐标系：{0}</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="97"/>
        <source>No project file given</source>
        <translation>未指定项目文件</translation>
    </message>
</context>
<context>
    <name>ProjectTab</name>
    <message>
        <location filename="../plugin/dock.py" line="91"/>
        <source>Current project</source>
        <translation>当前项目</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="93"/>
        <source>No project open</source>
        <translation>未打开项目</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="100"/>
        <source>New project…</source>
        <translation>新建项目…</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="102"/>
        <source>Create an empty project GeoPackage with every layer</source>
        <translation>创建包含全部图层的空项目 GeoPackage</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="104"/>
        <source>Open project…</source>
        <translation>打开项目…</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="106"/>
        <source>Add the styled layers of a project GeoPackage to the map</source>
        <translation>将项目 GeoPackage 中已配样式的图层添加到地图</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="108"/>
        <source>Open demo</source>
        <translation>打开示范项目</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="110"/>
        <source>Build the demo district (with DEM) and open it</source>
        <translation>生成示范片区（含 DEM）并打开</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="119"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="160"/>
        <source>New Renewal Planner project</source>
        <translation>新建城市更新规划项目</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="182"/>
        <source>GeoPackage (*.gpkg)</source>
        <translation>GeoPackage (*.gpkg)</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="174"/>
        <source>Could not create the project: {0}</source>
        <translation>无法创建项目：{0}</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="177"/>
        <source>Created project {0}</source>
        <translation>已创建项目 {0}</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="182"/>
        <source>Open Renewal Planner project</source>
        <translation>打开城市更新规划项目</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="198"/>
        <source>Could not open the project: {0}</source>
        <translation>无法打开项目：{0}</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="216"/>
        <source>Building the Renewal Planner demo district</source>
        <translation>正在生成城市更新示范片区</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="223"/>
        <source>The demo did not return a project</source>
        <translation>示范程序未返回项目</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="225"/>
        <source>Demo district built in {0}</source>
        <translation>示范片区已生成于 {0}</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="231"/>
        <source>Another task is still running</source>
        <translation>另一个任务仍在运行</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="250"/>
        <source>{0} failed: {1}</source>
        <translation>{0} 失败：{1}</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="254"/>
        <source>{0}: canceled</source>
        <translation>{0}：已取消</translation>
    </message>
</context>
<context>
    <name>RenewalPlannerAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms.py" line="32"/>
        <source>Project</source>
        <translation>项目</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="50"/>
        <source>Missing Python packages: {0}</source>
        <translation>缺少 Python 软件包：{0}</translation>
    </message>
</context>
<context>
    <name>RenewalPlannerDock</name>
    <message>
        <location filename="../plugin/dock.py" line="302"/>
        <source>Renewal Planner / 城市更新规划助手</source>
        <translation>城市更新规划助手 / Renewal Planner</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="306"/>
        <source>Project</source>
        <translation>项目</translation>
    </message>
</context>
<context>
    <name>RenewalPlannerPlugin</name>
    <message>
        <location filename="../plugin/main.py" line="126"/>
        <source>Renewal Planner</source>
        <translation>城市更新规划助手</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="103"/>
        <source>Show or hide the Renewal Planner dock</source>
        <translation>显示或隐藏城市更新规划助手面板</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="115"/>
        <source>{0} {1} (need &gt;= {2})</source>
        <translation>{0} {1}（需要 &gt;= {2}）</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="115"/>
        <source>{0} (not installed)</source>
        <translation>{0}（未安装）</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="119"/>
        <source>QGIS&apos;s Python lacks {0}. Install with: {1} (add --break-system-packages on Debian 12 and later), or run `make run` from the Renewal Planner source tree. Until then the features that need them are disabled.</source>
        <translation>QGIS 的 Python 缺少 {0}。安装命令：{1}（Debian 12 及更高版本需加 --break-system-packages），或在城市更新规划助手源码目录中运行 `make run`。在此之前，需要这些软件包的功能不可用。</translation>
    </message>
</context>
<context>
    <name>RenewalPlannerProvider</name>
    <message>
        <location filename="../plugin/provider.py" line="25"/>
        <source>Renewal Planner: urban renewal planning and conflict checks</source>
        <translation>城市更新规划助手：城市更新规划与冲突检查</translation>
    </message>
</context>
</TS>
